import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPool } from '../../src/registry/http-pool.js';
import { TransportError } from '../../src/registry/transport-error.js';

/**
 * The transport under the registry client: what goes on the wire, connection reuse and the
 * timeout. A plain loopback server stands in for the network here; what the registry answers is
 * covered against the real registry everywhere else.
 */
describe('HttpPool', () => {
  let server: Server;
  let base: URL;
  const seen: Array<{ method: string; url: string; body: string; length: string | undefined; chunked: boolean }> = [];
  const sockets = new Set<Socket>();
  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    // As the registry answers: a HEAD carries the length of the body it leaves out.
    res.writeHead(200, { 'docker-content-digest': 'sha256:abc', 'content-length': '6' });
    res.end(req.method === 'HEAD' ? undefined : 'answer');
  };
  let handler = answer;

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seen.push({ method: req.method ?? '', url: req.url ?? '', body, length: req.headers['content-length'], chunked: req.headers['transfer-encoding'] === 'chunked' });
      handler(req, res);
    });
    server.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Runs `test` with a new pool and, if given, another server handler; closes and restores both after. */
  async function withPool(options: { connections: number; timeoutMs: number; handler?: typeof answer }, test: (pool: HttpPool) => Promise<void>): Promise<void> {
    const pool = new HttpPool(options);
    if (options.handler) handler = options.handler;
    try {
      await test(pool);
    } finally {
      pool.close();
      handler = answer;
    }
  }

  it('sends the path with its query, bodies with a length, and keeps one connection across GET, HEAD and POST', async () => {
    sockets.clear();
    seen.length = 0;
    await withPool({ connections: 1, timeoutMs: 5_000 }, async (pool) => {
      const get = await pool.request(new URL('/v2/_catalog?n=2#ignored', base), { method: 'GET' });
      expect(get.status).toBe(200);
      expect(get.body.toString()).toBe('answer');
      const head = await pool.request(new URL('/v2/a/manifests/1', base), { method: 'HEAD' });
      expect(head.values('docker-content-digest')).toEqual(['sha256:abc']);
      expect(head.body.length).toBe(0);
      await pool.request(new URL('/token', base), { method: 'POST', body: 'a=b' });
      await pool.request(new URL('/v2/a/blobs/uploads/', base), { method: 'POST' });
      expect(seen).toEqual([
        { method: 'GET', url: '/v2/_catalog?n=2', body: '', length: undefined, chunked: false },
        { method: 'HEAD', url: '/v2/a/manifests/1', body: '', length: undefined, chunked: false },
        { method: 'POST', url: '/token', body: 'a=b', length: '3', chunked: false },
        { method: 'POST', url: '/v2/a/blobs/uploads/', body: '', length: '0', chunked: false },
      ]);
      expect(sockets.size).toBe(1);
    });
  });

  it('keeps a repeated header as separate values (a 401 offering Bearer and Basic)', async () => {
    const challenges = ['Bearer realm="https://auth.example/token",service="registry"', 'Basic realm="Registry"'];
    const challenge = (_req: IncomingMessage, res: ServerResponse): void => {
      res.setHeader('www-authenticate', challenges);
      res.writeHead(401, { 'content-length': '0' });
      res.end();
    };
    await withPool({ connections: 1, timeoutMs: 5_000, handler: challenge }, async (pool) => {
      const challenged = await pool.request(new URL('/v2/', base), { method: 'GET' });
      expect(challenged.status).toBe(401);
      expect(challenged.values('www-authenticate')).toEqual(challenges);
    });
  });

  it('opens at most `connections` connections to an origin however many requests are in flight', async () => {
    sockets.clear();
    await withPool({ connections: 3, timeoutMs: 5_000 }, async (pool) => {
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => pool.request(new URL(`/v2/r/manifests/${i}`, base), { method: 'HEAD' })));
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      expect(sockets.size).toBe(3);
    });
  });

  it('fails a request whose answer stops coming with a TIMEOUT naming the limit', async () => {
    const stall = (_req: IncomingMessage, res: ServerResponse): void => {
      res.writeHead(200, { 'content-length': '10' });
      res.write('half'); // and nothing more
    };
    try {
      await withPool({ connections: 1, timeoutMs: 300, handler: stall }, async (pool) => {
        const error = await pool.request(new URL('/v2/slow/tags/list', base), { method: 'GET' }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(TransportError);
        expect(error).toMatchObject({ code: 'TIMEOUT', message: 'no answer within 0.3 s' });
      });
    } finally {
      // The server still holds the half-answered connection.
      for (const socket of sockets) socket.destroy();
    }
  });

  it('names a refused connection by its code', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const pool = new HttpPool({ connections: 1, timeoutMs: 5_000 });
    const error = await pool.request(new URL(`http://127.0.0.1:${port}/v2/`), { method: 'GET' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    pool.close();
  });
});
