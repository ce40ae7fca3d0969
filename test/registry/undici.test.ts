import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from '../../src/registry/undici.js';

/** Pins the undici files rc loads directly (src/registry/undici.ts) and its URL handling. */
describe('undici without its index', () => {
  let server: Server;
  let base: URL;
  const seen: Array<{ method: string; url: string; body: string }> = [];
  let connections = 0;

  beforeAll(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.setHeader('docker-content-digest', 'sha256:abc');
      res.end(req.method === 'HEAD' ? undefined : 'answer');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the path with its query, drops the fragment, and keeps a HEAD connection open', async () => {
    const agent = new Agent({ connections: 1 });
    try {
      const get = await request(new URL('/v2/_catalog?n=2#ignored', base), { method: 'GET', dispatcher: agent });
      expect(get.statusCode).toBe(200);
      expect(await get.body.text()).toBe('answer');
      const head = await request(new URL('/v2/a/manifests/1', base), { method: 'HEAD', dispatcher: agent, reset: false });
      expect(head.headers['docker-content-digest']).toBe('sha256:abc');
      await head.body.dump();
      const post = await request(new URL('/token', base), { method: 'POST', body: 'a=b', dispatcher: agent });
      await post.body.dump();
      expect(seen).toEqual([
        { method: 'GET', url: '/v2/_catalog?n=2', body: '' },
        { method: 'HEAD', url: '/v2/a/manifests/1', body: '' },
        { method: 'POST', url: '/token', body: 'a=b' },
      ]);
      expect(connections).toBe(1);
    } finally {
      await agent.close();
    }
  });
});
