import type { AddressInfo } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki, type Pki } from '../../testkit/auth/pki.js';
import { HttpPool } from '../../src/registry/http-pool.js';

/**
 * The pool's TLS connections, against a TLS server on loopback with a certificate from a private
 * CA: what the server sees of each connection (SNI, session resumption) and what the pool refuses.
 * rc against a real registry serving HTTPS is covered in test/auth/tls.test.ts.
 */
describe('HttpPool over TLS', () => {
  let pki: Pki;
  let server: Server;
  let port: number;
  /** Each connection the server accepted: the name it was asked for (SNI), and whether it resumed a session. */
  const accepted: Array<{ servername: string | false; resumed: boolean }> = [];

  beforeAll(async () => {
    pki = await createPki();
    server = createServer({ cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey) }, (socket: TLSSocket) => {
      accepted.push({ servername: socket.servername ?? false, resumed: socket.isSessionReused() });
      socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }, 60_000);
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    pki.remove();
  });

  it('names a host in SNI but never an address, and resumes the first session on later connections', async () => {
    accepted.length = 0;
    const pool = new HttpPool({ connections: 3, timeoutMs: 5_000, tls: { ca: pki.read(pki.caCert) } });
    try {
      const get = (host: string) => pool.request(new URL(`https://${host}:${port}/v2/`), { method: 'GET' });
      expect((await get('localhost')).body.toString()).toBe('ok');
      // Three at once: the first connection again, and two new ones offered its session.
      await Promise.all([get('localhost'), get('localhost'), get('localhost')]);
      await get('127.0.0.1');
    } finally {
      pool.close();
    }
    expect(accepted).toEqual([
      { servername: 'localhost', resumed: false },
      { servername: 'localhost', resumed: true },
      { servername: 'localhost', resumed: true },
      { servername: false, resumed: false },
    ]);
  });

  it('refuses a server whose certificate the configured CA did not sign, naming the reason by its code', async () => {
    const pool = new HttpPool({ connections: 1, timeoutMs: 5_000, tls: { ca: pki.read(pki.otherCaCert) } });
    try {
      const error = await pool.request(new URL(`https://localhost:${port}/v2/`), { method: 'GET' }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    } finally {
      pool.close();
    }
  });
});
