import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A throwaway PKI made with the `openssl` CLI (argument arrays, no shell): a CA, a server
 * certificate for 127.0.0.1 and localhost signed by it, a client certificate for mTLS signed by it, and a
 * self-signed token-signing certificate (the registry's `auth.token.rootcertbundle`).
 * Every file is PEM in one temporary directory; `remove()` deletes it.
 */
export interface Pki {
  readonly dir: string;
  /** The CA certificate: what a client passes as `ca`, and the registry as `http.tls.clientcas`. */
  readonly caCert: string;
  /** Server certificate (SAN IP:127.0.0.1 and DNS:localhost, serverAuth) and its key: `http.tls.certificate` / `key`. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** Client certificate (clientAuth) and its key, for mTLS. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** The RSA key tokens are signed with (RS256), and its self-signed certificate (the rootcertbundle). */
  readonly tokenKey: string;
  readonly tokenCert: string;
  /** Base64 DER of `tokenCert`: the JWT header's `x5c` entry. */
  readonly tokenCertDerBase64: string;
  /** A second CA nobody trusts, for "signed by someone else" cases. */
  readonly otherCaCert: string;
  read(file: string): Buffer;
  remove(): void;
}

const execFileAsync = promisify(execFile);

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd });
  } catch (error) {
    const failure = error as Error & { stderr?: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${failure.stderr?.trim() || failure.message}`);
  }
}

/** A self-signed CA certificate with its key. */
async function makeCa(dir: string, name: string, subject: string): Promise<void> {
  await openssl(
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', subject,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

/**
 * A leaf key and certificate signed by the CA `ca`, with the extensions given. Each leaf gets its
 * own random serial: leaves are signed in parallel, and `-CAcreateserial` would have them race on
 * one shared `ca.srl` (one reads it half-written: "Unable to load number from ca.srl").
 */
async function makeLeaf(dir: string, name: string, subject: string, ca: string, extensions: string[]): Promise<void> {
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  writeFileSync(join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  await openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-out', `${name}.crt`, '-days', '2', '-sha256', '-extfile', `${name}.ext`],
    dir,
  );
}

export async function createPki(): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), 'rc-pki-'));
  try {
    await Promise.all([makeCa(dir, 'ca', '/CN=registry-clean test CA'), makeCa(dir, 'other-ca', '/CN=registry-clean untrusted CA')]);
    await Promise.all([
      makeLeaf(dir, 'server', '/CN=127.0.0.1', 'ca', [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ]),
      makeLeaf(dir, 'client', '/CN=registry-clean test client', 'ca', [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=clientAuth',
      ]),
      openssl(
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'token.key', '-out', 'token.crt', '-days', '2', '-subj', '/CN=registry-clean test token signer'],
        dir,
      ),
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const pem = readFileSync(join(dir, 'token.crt'), 'utf8');
  const tokenCertDerBase64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    tokenKey: join(dir, 'token.key'),
    tokenCert: join(dir, 'token.crt'),
    tokenCertDerBase64,
    otherCaCert: join(dir, 'other-ca.crt'),
    read: (file) => readFileSync(file),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
