import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki, type Pki } from '../../testkit/auth/pki.js';
import { startSecureRegistry, type SecureRegistry } from '../../testkit/auth/secure-registry.js';
import { closeTestkitHttp } from '../../testkit/http.js';
import { makeImage, pushImage } from '../../testkit/images.js';
import { pushSeedImages, seedCleanupList, SEED_TAGS_AFTER, type SeedImages } from '../../testkit/seed-images.js';
import { snapshotStorage } from '../support/storage-snapshot.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';
import { hintOf, isolatedEnv, leakedSecrets, rcRecorded, type RecordedRun } from './auth-support.js';

/**
 * Registries serving HTTPS with a certificate from a private CA (`ca`), one of them requiring
 * client certificates (mTLS: `cert`, `key`), and `insecure: true` with an https URL.
 */
describe('rc against registries serving HTTPS', () => {
  const runs: RecordedRun[] = [];
  let pki: Pki;
  let tls: SecureRegistry;
  let mtls: SecureRegistry;
  let seed: SeedImages;
  let workspace: Workspace;
  let env: Record<string, string>;

  const rc = (...args: string[]) => rcRecorded(runs, workspace, env, ...args);
  /** The operator's config for `registry`: its https URL and TLS settings, storage, GC and restart. */
  const configure = (registry: SecureRegistry, tlsSettings: Record<string, unknown>) =>
    workspace.writeConfig({
      registries: { [registry.host]: { url: registry.url, ...tlsSettings } },
      storage: { backend: 'filesystem', root: registry.storageRoot },
      gc: { command: ['docker-registry', 'garbage-collect', registry.configPath] },
      restart: { command: registry.restartCommand },
    });
  const pushPair = async (url: string, repository: string) => {
    await pushImage(url, repository, 'old', makeImage({ seed: `${repository}:old` }));
    await pushImage(url, repository, 'keep', makeImage({ seed: `${repository}:keep` }));
  };

  beforeAll(async () => {
    pki = await createPki();
    const ca = readFileSync(pki.caCert);
    [tls, mtls] = await Promise.all([
      startSecureRegistry({
        tls: { certificate: pki.serverCert, key: pki.serverKey },
        trust: { ca },
        prepare: async (url) => {
          seed = await pushSeedImages(url);
          await pushPair(url, 'tls/insecure');
        },
      }),
      startSecureRegistry({
        tls: { certificate: pki.serverCert, key: pki.serverKey, clientCas: [pki.caCert] },
        trust: { ca, cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) },
        prepare: (url) => pushPair(url, 'mtls/app'),
      }),
    ]);
    workspace = createWorkspace();
    workspace.writeList(seedCleanupList(tls.host).trim().split('\n'));
    env = isolatedEnv(workspace);
  });

  afterAll(async () => {
    await Promise.all([tls?.stop(), mtls?.stop()]);
    await closeTestkitHttp();
    workspace?.remove();
    pki?.remove();
  });

  it('without `ca`, a registry with a private-CA certificate fails with exit 1, a certificate error and a hint to configure the CA; nothing is touched', async () => {
    configure(tls, {});
    const before = snapshotStorage(tls.storageRoot);
    const result = await rc('clean');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('0 deleted');
    expect(snapshotStorage(tls.storageRoot)).toEqual(before);
    expect(result.stderr).toContain(tls.host);
    // What went wrong is the certificate, not the address: say so, and how to trust it.
    expect(result.stderr).toMatch(/^Error: .*certificate/im);
    expect(hintOf(result.stderr)).toMatch(/\bca\b/);
  });

  it('a `ca` that did not sign the registry certificate is not trusted: exit 1 and nothing is touched', async () => {
    configure(tls, { ca: pki.otherCaCert });
    const before = snapshotStorage(tls.storageRoot);
    const result = await rc('clean');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('0 deleted');
    expect(snapshotStorage(tls.storageRoot)).toEqual(before);
  });

  it('a `ca` file that cannot be read is bad input: exit 2 naming registries[host].ca, nothing touched', async () => {
    const before = snapshotStorage(tls.storageRoot);
    const directory = path.join(workspace.dir, 'ca-is-a-directory');
    mkdirSync(directory, { recursive: true });
    for (const unreadable of [path.join(workspace.dir, 'no-such-ca.pem'), directory]) {
      configure(tls, { ca: unreadable });
      const result = await rc('clean');
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(`registries["${tls.host}"].ca`);
      expect(result.stderr).toContain(unreadable);
      expect(result.stdout).not.toMatch(/deleted/);
    }
    expect(snapshotStorage(tls.storageRoot)).toEqual(before);
  });

  it('with the private CA in `ca`, rc clean over HTTPS deletes exactly the listed images, keeps nginx:stable, collects garbage and restarts', async () => {
    configure(tls, { ca: pki.caCert });
    const result = await rc('clean');
    expect(result.stderr).not.toMatch(/^Error/m);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/deleted\s+\S+\/library\/busybox:1\.36\.1/);
    expect(result.stdout).toMatch(/deleted\s+\S+\/demo\/nginx:1\.26 .*kept stable/);
    expect(result.stdout).toContain('3 deleted, 1 absent, 0 failed');
    for (const [repository, tags] of Object.entries(SEED_TAGS_AFTER)) expect(await tls.tags(repository)).toEqual([...tags].sort());
    expect(await tls.manifestDigest('demo/nginx', 'stable')).toBe(seed.digests['demo/nginx:1.26']);
    expect((await tls.catalog()).sort()).toEqual(['demo/nginx', 'library/busybox', 'tls/insecure']);
    expect(tls.restartCount()).toBe(1);
  });

  it('rc ls lists the HTTPS registry when `ca` is configured', async () => {
    configure(tls, { ca: pki.caCert });
    const result = await rc('ls', '--registry', tls.host);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim()).sort();
    expect(lines).toEqual(['demo/nginx:latest', 'demo/nginx:stable', 'library/busybox:1.35.0', 'tls/insecure:keep', 'tls/insecure:old']);
  });

  it('rc doctor passes reachability, credentials, deletion and storage checks over HTTPS with `ca`', async () => {
    configure(tls, { ca: pki.caCert });
    const result = await rc('doctor', '--registry', tls.host, '--json');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: Array<{ check: string; ok: boolean; detail: string }> };
    expect(report.ok).toBe(true);
    const byName = Object.fromEntries(report.checks.map((check) => [check.check, check]));
    expect(byName.reachable?.detail).toContain(tls.url);
    for (const name of ['reachable', 'credentials', 'deletion', 'storage']) expect(byName[name]?.ok, `${name}: ${byName[name]?.detail}`).toBe(true);
  });

  it('`insecure: true` with an https url works without the CA and warns loudly that certificate verification is off', async () => {
    configure(tls, { insecure: true });
    const result = await rc('clean', '--no-gc', `${tls.host}/tls/insecure:old`);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('1 deleted, 0 absent, 0 failed');
    expect(await tls.tags('tls/insecure')).toEqual(['keep']);
    expect(result.stderr).toMatch(/TLS certificate verification is OFF for 127\.0\.0\.1:\d+/);
    expect(result.stderr).toContain(`registries["${tls.host}"].insecure`);
  });

  it('a registry that requires a client certificate refuses rc without `cert`/`key`: exit 1, nothing touched, and the output points at the client certificate', async () => {
    configure(mtls, { ca: pki.caCert });
    const result = await rc('clean', '--no-gc', `${mtls.host}/mtls/app:old`);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('0 deleted');
    expect(await mtls.tags('mtls/app')).toEqual(['keep', 'old']);
    expect(result.stderr).toContain(mtls.host);
    expect(result.stderr).toMatch(/client certificate|registries\[".*"\]\.cert/i);
    // Not misread as an untrusted server certificate, and no OpenSSL source lines.
    expect(result.stderr).not.toContain('is not trusted');
    expect(result.stderr).not.toMatch(/openssl|rec_layer/i);
  });

  it('with `cert` and `key`, rc deletes from a registry that requires a client certificate', async () => {
    configure(mtls, { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey });
    const result = await rc('clean', '--no-gc', `${mtls.host}/mtls/app:old`);
    expect(result.stderr).not.toMatch(/^Error/m);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('1 deleted, 0 absent, 0 failed');
    expect(await mtls.tags('mtls/app')).toEqual(['keep']);
  });

  it('no private key from the TLS files appears anywhere in what rc printed during this file', () => {
    expect(runs.length).toBeGreaterThanOrEqual(10);
    const keyBodies = [pki.clientKey, pki.serverKey].map((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line && !line.startsWith('-----'))
        .join(''),
    );
    const secrets = keyBodies.flatMap((body) => [body, body.slice(0, 40), body.slice(-40)]);
    expect(leakedSecrets(runs, secrets)).toEqual([]);
  });
});
