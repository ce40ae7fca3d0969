import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpPool } from '../../src/registry/http-pool.js';
import { TransportError } from '../../src/registry/transport-error.js';

const execFileAsync = promisify(execFile);

/**
 * How answers are read off the wire, byte for byte: a raw TCP server on loopback writes exactly
 * what a registry, or a proxy in front of one, may send — cut anywhere, chunked, framed by close,
 * or broken. (What the registry itself answers is covered against the real registry elsewhere.)
 */
describe('HTTP/1.1 on the wire', () => {
  let server: Server;
  let base: URL;
  /** Each connection the server accepted, with the requests it read on it. */
  let connections: Array<{ socket: Socket; requests: string[] }>;
  /** What the server does with each request: write bytes (in pieces, to cut the answer anywhere), or close. */
  let reply: (request: string, socket: Socket, index: number) => void;

  const answer = (...pieces: string[]) => (_request: string, socket: Socket) => writeInPieces(socket, pieces);

  beforeAll(async () => {
    server = createServer((socket) => {
      const connection = { socket, requests: [] as string[] };
      connections.push(connection);
      let buffered = '';
      socket.on('data', (data) => {
        buffered += data.toString('latin1');
        for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
          const head = buffered.slice(0, end);
          const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          const request = buffered.slice(0, end + 4 + length);
          buffered = buffered.slice(end + 4 + length);
          connection.requests.push(request);
          reply(request, socket, connection.requests.length - 1);
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    for (const connection of connections ?? []) connection.socket.destroy();
    connections = [];
  });

  async function withPool(test: (pool: HttpPool) => Promise<void>, timeoutMs = 5_000): Promise<void> {
    const pool = new HttpPool({ connections: 2, timeoutMs });
    try {
      await test(pool);
    } finally {
      pool.close();
    }
  }
  const get = (pool: HttpPool, path = '/v2/r/tags/list') => pool.request(new URL(path, base), { method: 'GET' });

  it('reads a chunked answer cut into single bytes, and keeps the connection for the next request', async () => {
    const body = '{"name":"r","tags":["a","b"]}';
    const chunked = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n5;ext=1\r\n${body.slice(0, 5)}\r\n${(body.length - 5).toString(16)}\r\n${body.slice(5)}\r\n0\r\nX-Trailer: yes\r\n\r\n`;
    reply = (_request, socket) => writeInPieces(socket, [...chunked]);
    await withPool(async (pool) => {
      const first = await get(pool);
      expect(first.status).toBe(200);
      expect(first.body.toString()).toBe(body);
      expect(first.header('content-type')).toBe('application/json');
      expect((await get(pool)).body.toString()).toBe(body);
    });
    expect(connections).toHaveLength(1);
    expect(connections[0]!.requests).toHaveLength(2);
  });

  it('reads answers whose lines end with a bare LF, cut into single bytes, instead of waiting for CR LF until the timeout', async () => {
    const answers = ['HTTP/1.1 200 OK\nContent-Length: 2\nX-Mixed: yes\r\n\nok', 'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nab\r\n1\r\nc\n0\n\n'];
    reply = (_request, socket, index) => writeInPieces(socket, [...answers[index]!]);
    await withPool(async (pool) => {
      const first = await get(pool);
      expect([first.status, first.header('x-mixed'), first.body.toString()]).toEqual([200, 'yes', 'ok']);
      expect((await get(pool)).body.toString()).toBe('abc');
    }, 2_000);
    expect(connections).toHaveLength(1);
  });

  it('writes the request line, Host with the port, keep-alive and the caller headers, and a length for a body', async () => {
    reply = answer('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
    await withPool(async (pool) => {
      const created = await pool.request(new URL('/v2/r/manifests/t?x=1', base), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"é":1}' });
      expect(created.status).toBe(201);
    });
    expect(connections[0]!.requests[0]).toBe(
      `PUT /v2/r/manifests/t?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${base.port}\r\nConnection: keep-alive\r\ncontent-type: application/json\r\nContent-Length: 8\r\n\r\n${Buffer.from('{"é":1}').toString('latin1')}`,
    );
  });

  it('skips interim 1xx answers and reads the real one after them', async () => {
    reply = answer('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n', 'HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n');
    await withPool(async (pool) => {
      const deleted = await pool.request(new URL('/v2/r/manifests/sha256:abc', base), { method: 'DELETE' });
      expect(deleted.status).toBe(202);
      expect(deleted.header('link')).toBeUndefined();
    });
  });

  it('reads an answer framed by the connection closing, and opens a new connection for the next request', async () => {
    reply = (_request, socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of');
      setTimeout(() => socket.end(' it'), 20);
    };
    await withPool(async (pool) => {
      expect((await get(pool)).body.toString()).toBe('all of it');
      expect((await get(pool)).body.toString()).toBe('all of it');
    });
    expect(connections).toHaveLength(2);
  });

  it('does not reuse a connection the answer says is closing, nor one closed by the server while idle', async () => {
    reply = (_request, socket, index) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n${index === 0 && connections.length === 1 ? 'Connection: close\r\n' : ''}\r\nok`);
    };
    await withPool(async (pool) => {
      await get(pool);
      await get(pool);
      expect(connections).toHaveLength(2);
      // The server closes the idle keep-alive connection; the next request must not be sent on it.
      connections[1]!.socket.end();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await get(pool)).body.toString()).toBe('ok');
    });
    expect(connections).toHaveLength(3);
  });

  it('reads no body after HEAD, 204 and 304 even when a length is given', async () => {
    reply = (request, socket) => {
      if (request.startsWith('HEAD')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nDocker-Content-Digest: sha256:abc\r\n\r\n');
      else if (request.includes('if-none-match')) socket.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n');
      else socket.write('HTTP/1.1 204 No Content\r\n\r\n');
    };
    await withPool(async (pool) => {
      const head = await pool.request(new URL('/v2/r/manifests/t', base), { method: 'HEAD' });
      expect([head.status, head.header('docker-content-digest'), head.body.length]).toEqual([200, 'sha256:abc', 0]);
      const empty = await get(pool);
      expect([empty.status, empty.body.length]).toEqual([204, 0]);
      const unchanged = await pool.request(new URL('/v2/r/manifests/t', base), { method: 'GET', headers: { 'if-none-match': '"sha256:abc"' } });
      expect([unchanged.status, unchanged.body.length]).toEqual([304, 0]);
    });
    expect(connections).toHaveLength(1);
  });

  it('fails an answer cut off mid-body with ECONNRESET, and the next request gets a new connection', async () => {
    reply = (_request, socket) => {
      if (connections.length === 1) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf');
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfull');
    };
    await withPool(async (pool) => {
      await expect(get(pool)).rejects.toMatchObject({ code: 'ECONNRESET', message: 'socket hang up' });
      expect((await get(pool)).body.toString()).toBe('full');
    });
  });

  it.each([
    ['a status line that is not HTTP/1.x', 'HTTP/2 200\r\n\r\n'],
    ['two different lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc'],
    ['a header folded onto the next line', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n'],
    ['a chunk longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n'],
  ])('refuses an answer with %s (HPE_INVALID) and drops its connection', async (_what, bytes) => {
    reply = (_request, socket) => (connections.length === 1 ? socket.write(bytes) : socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    await withPool(async (pool) => {
      const error = await get(pool).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ code: 'HPE_INVALID' });
      expect((error as Error).message).toMatch(/^the answer is not valid HTTP\/1\.1: /);
      expect((await get(pool)).body.toString()).toBe('ok');
    });
    expect(connections).toHaveLength(2);
  });

  it('reads a body sent together with the head and the next answer in separate pieces, with Content-Length and Connection in any case', async () => {
    reply = (_request, socket, index) => writeInPieces(socket, index === 0 ? ['HTTP/1.1 200 OK\r\ncontent-LENGTH: 3\r\nconnection: Keep-Alive\r\n\r\none'] : ['HTTP/1.1 404 Not Found\r\nContent-Length: 3', '\r\n\r', '\ntwo']);
    await withPool(async (pool) => {
      expect((await get(pool)).body.toString()).toBe('one');
      const second = await get(pool);
      expect([second.status, second.body.toString()]).toEqual([404, 'two']);
    });
    expect(connections).toHaveLength(1);
  });

  it.each([
    ['a line break', 'Bearer c2VjcmV0\r\nX-Injected: 1'],
    // Sent as Latin-1, U+010D U+010A would leave as CR LF: a token server could smuggle a header or a request.
    ['characters whose low byte is a line break', 'Bearer c2VjcmV0\u010d\u010aX-Injected: 1'],
    ['a control character', 'Bearer c2VjcmV0\u0001'],
  ])('refuses a header value with %s before sending anything, without echoing the value', async (_what, value) => {
    reply = answer('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    await withPool(async (pool) => {
      const error = await pool.request(new URL('/v2/', base), { method: 'GET', headers: { authorization: value } }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TypeError);
      expect(String(error)).toContain('"authorization"');
      expect(String(error)).not.toContain('c2VjcmV0');
    });
    expect(connections).toHaveLength(0);
  });

  it.each([
    ['bytes beyond the answer', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ['both Content-Length and Transfer-Encoding', 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
    ['HTTP/1.0 without keep-alive', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'],
  ])('reads an answer with %s, and never sends another request on its connection', async (_what, bytes) => {
    reply = answer(bytes);
    await withPool(async (pool) => {
      expect((await get(pool)).body.toString()).toBe('ok');
      expect((await get(pool)).body.toString()).toBe('ok');
    });
    expect(connections.map((c) => c.requests.length)).toEqual([1, 1]);
  });

  it('gives a request waiting for a connection a new one when the busy one closes after its answer', async () => {
    reply = answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    const pool = new HttpPool({ connections: 1, timeoutMs: 5_000 });
    try {
      const answers = await Promise.all([get(pool), get(pool), get(pool)]);
      expect(answers.map((a) => a.body.toString())).toEqual(['ok', 'ok', 'ok']);
    } finally {
      pool.close();
    }
    expect(connections).toHaveLength(3);
  });

  it('lets the process end while a keep-alive connection is idle (it is not held open for the idle timeout)', async () => {
    reply = answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    // A process that sends one request and never closes its pool, as a run ending on an error would.
    const script = `import { HttpPool } from ${JSON.stringify(new URL('../../src/registry/http-pool.ts', import.meta.url).pathname)};
      const pool = new HttpPool({ connections: 2, timeoutMs: 30000 });
      const answer = await pool.request(new URL(${JSON.stringify(`${base.origin}/v2/`)}), { method: 'GET' });
      console.log(answer.body.toString());`;
    // The idle timeout is 10 s: a process held open by its connection is killed at 8.
    const child = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 8_000 }).catch((error: unknown) => error as { stdout: string; signal: string });
    expect(child).toMatchObject({ stdout: 'ok\n' });
    expect((child as { signal?: string }).signal).toBeUndefined();
    expect(connections[0]!.requests).toHaveLength(1);
  });

  it('fails requests still waiting for an answer when the pool is closed', async () => {
    reply = () => {}; // never answers
    const pool = new HttpPool({ connections: 1, timeoutMs: 5_000 });
    const inFlight = get(pool).catch((caught: unknown) => caught);
    const queued = get(pool).catch((caught: unknown) => caught);
    await new Promise((resolve) => setTimeout(resolve, 50));
    pool.close();
    expect(await inFlight).toMatchObject({ code: 'CLOSED', message: 'the client was closed' });
    expect(await queued).toMatchObject({ code: 'CLOSED', message: 'the client was closed' });
  });
});

/** Writes each piece in its own write, a few milliseconds apart, so the client sees them as separate reads. */
function writeInPieces(socket: Socket, pieces: string[]): void {
  let at = 0;
  const next = (): void => {
    if (at >= pieces.length || socket.destroyed) return;
    socket.write(pieces[at++]!, 'latin1');
    if (at < pieces.length) setTimeout(next, pieces.length > 20 ? 0 : 5);
  };
  next();
}
