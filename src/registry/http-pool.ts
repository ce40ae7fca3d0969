import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import type { ConnectionOptions } from 'node:tls';
import { Http1Connection } from './http1-connection.js';
import { httpToken } from './http1-response-parser.js';
import { TransportError } from './transport-error.js';

export interface HttpPoolOptions {
  /** Most connections kept open to one origin; requests beyond it wait for one to free up. */
  connections: number;
  /** A request fails once its connection stays silent this long: connecting, waiting for headers, or mid-body. */
  timeoutMs: number;
  /** TLS for https origins: a private CA, a client certificate (mTLS), or no verification at all. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean };
}

/** A whole answer: status, headers and body (empty for HEAD). */
export class HttpAnswer {
  constructor(
    readonly status: number,
    /**
     * The headers as received, name and value alternating. Read with `header` and `values`: the
     * registry's answers carry about ten, of which rc reads two or three, so no object of them
     * all is built (Node's `headersDistinct` was 20 µs of every request).
     */
    private readonly rawHeaders: readonly string[],
    readonly body: Buffer,
  ) {}

  /** The first value of a header (`name` in lower case), if it was sent. */
  header(name: string): string | undefined {
    const at = this.find(name, 0);
    return at < 0 ? undefined : this.rawHeaders[at + 1];
  }

  /**
   * Every value of a header, in order. Node joins a repeated header with ", ", and a 401 that
   * offers Bearer and Basic challenges would read as one.
   */
  values(name: string): string[] {
    const found: string[] = [];
    for (let at = this.find(name, 0); at >= 0; at = this.find(name, at + 2)) found.push(this.rawHeaders[at + 1]!);
    return found;
  }

  /** Where the header `name` (lower case) is in `rawHeaders` from `from` on, or -1. */
  private find(name: string, from: number): number {
    const raw = this.rawHeaders;
    for (let i = from; i < raw.length; i += 2) {
      if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) return i;
    }
    return -1;
  }
}

/** Where requests go: what `HttpPool.origin` works out once, so each request does not parse a URL. */
export interface Origin {
  readonly secure: boolean;
  readonly hostname: string;
  readonly port: number;
}

const IDLE_TIMEOUT_MS = 10_000;
/**
 * Connecting takes a round trip; a host that drops the attempt (down, or behind a firewall)
 * never answers at all. This fails it sooner than the request timeout (30 s by default).
 */
const CONNECT_TIMEOUT_MS = 10_000;
/** Methods that carry no body unless given one; any other says `Content-Length: 0` when it has none, as Node's http does. */
const bodyless = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE']);
/**
 * What Node's http refuses in a header value. The request goes out as Latin-1, which keeps the
 * low byte of a character: U+010D would leave as a carriage return.
 */
const unsafeValue = /[^\t\x20-\x7e\x80-\xff]/;
/** Framing headers this pool writes itself: a caller's would contradict them. */
const ownHeaders = new Set(['host', 'connection', 'content-length', 'transfer-encoding']);
/** What Node's http refuses in a path too: it would split the request line. */
const unsafePath = /[^\u0021-\u00ff]/;

/** The connections to one origin: idle ones to reuse, every open one, and requests waiting for one. */
interface OriginConnections {
  readonly origin: Origin;
  readonly idle: Http1Connection[];
  readonly waiting: Array<{ resolve: (connection: Http1Connection) => void; reject: (error: unknown) => void }>;
  /** Every open connection, idle or busy: how many may still be opened, and what `close` ends. */
  readonly all: Set<Http1Connection>;
  /** A TLS session to resume, so only the first connection pays for a full handshake. */
  session?: Buffer;
}

/**
 * Keep-alive HTTP/1.1 connections to any number of origins (the registry, a token server), as
 * many to each as requests in flight, with requests beyond that waiting for one to free up.
 *
 * Written on sockets rather than Node's http client: rc is a short-lived process, and Node's
 * client runs most of its JavaScript (agent, request, streams, events) cold for every request.
 * During a clean on a 2-core machine that CPU is taken from the registry: a process burning a
 * sixth of a core slowed the registry's DELETEs by a fifth. A request here is one write and one
 * parse of the answer.
 */
export class HttpPool {
  private readonly origins = new Map<string, OriginConnections>();
  /** The same, by the Origin object a client keeps for all its requests: no key to build per request. */
  private readonly byObject = new WeakMap<Origin, OriginConnections>();
  /** A new connection that has not completed by then fails with CONNECT_TIMEOUT. */
  private readonly connectMs: number | undefined;
  private tlsConnect: typeof import('node:tls').connect | undefined;
  private closed = false;

  constructor(private readonly options: HttpPoolOptions) {
    // Only when it is sooner than the request's own timeout, which counts from before connecting too.
    this.connectMs = CONNECT_TIMEOUT_MS < options.timeoutMs ? CONNECT_TIMEOUT_MS : undefined;
  }

  /** Scheme, host and port of a URL, worked out once for any number of requests there. */
  origin(url: URL): Origin {
    const secure = url.protocol === 'https:';
    return { secure, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) || (secure ? 443 : 80) };
  }

  /** Sends one request to a URL and reads the whole answer. Throws TransportError when none comes. */
  request(url: URL, init: RequestInit): Promise<HttpAnswer> {
    return this.send(this.origin(url), `${url.pathname}${url.search}`, init);
  }

  /** Sends one request for `path` (with its query) to an origin and reads the whole answer. Throws TransportError when none comes. */
  async send(origin: Origin, path: string, init: RequestInit): Promise<HttpAnswer> {
    const request = requestBytes(origin, path, init);
    const connections = this.connectionsTo(origin);
    const connection = await this.acquire(connections);
    const answer = await connection.exchange(request, init.method, this.options.timeoutMs);
    if (answer.reusable) this.release(connections, connection);
    return new HttpAnswer(answer.status, answer.rawHeaders, answer.body);
  }

  /** Closes every connection; requests still in flight or waiting fail. */
  close(): void {
    this.closed = true;
    for (const connections of this.origins.values()) {
      for (const waiting of connections.waiting.splice(0)) waiting.reject(clientClosed());
      for (const connection of connections.all) connection.destroy(clientClosed());
    }
  }

  private connectionsTo(origin: Origin): OriginConnections {
    const known = this.byObject.get(origin);
    if (known) return known;
    const key = `${origin.secure ? 's' : ''}${origin.hostname}:${origin.port}`;
    let connections = this.origins.get(key);
    if (!connections) {
      connections = { origin, idle: [], waiting: [], all: new Set() };
      this.origins.set(key, connections);
    }
    this.byObject.set(origin, connections);
    return connections;
  }

  /** An idle connection (the one used last: the least likely to have been closed by the server), a new one, or the next to free up. */
  private acquire(connections: OriginConnections): Http1Connection | Promise<Http1Connection> {
    for (let idle = connections.idle.pop(); idle; idle = connections.idle.pop()) if (!idle.closed) return idle;
    if (this.closed) throw clientClosed();
    if (connections.all.size < this.options.connections) return this.connect(connections);
    return new Promise((resolve, reject) => connections.waiting.push({ resolve, reject }));
  }

  private release(connections: OriginConnections, connection: Http1Connection): void {
    const next = connections.waiting.shift();
    if (next) next.resolve(connection);
    else connections.idle.push(connection);
  }

  private connect(connections: OriginConnections): Http1Connection {
    const { origin } = connections;
    const socket = origin.secure ? this.connectTls(connections) : connectTcp({ host: origin.hostname, port: origin.port });
    const connection = new Http1Connection(socket, IDLE_TIMEOUT_MS, (closed) => {
      connections.all.delete(closed);
      const at = connections.idle.indexOf(closed);
      if (at >= 0) connections.idle.splice(at, 1);
      // A request waiting for a free connection gets a new one in place of this.
      const next = this.closed ? undefined : connections.waiting.shift();
      if (!next) return;
      try {
        next.resolve(this.connect(connections));
      } catch (error) {
        next.reject(error);
      }
    });
    connections.all.add(connection);
    if (this.connectMs !== undefined) limitConnect(socket, this.connectMs);
    return connection;
  }

  /**
   * A TLS connection, with Node's tls loaded on the first: its code is about 3 ms of every
   * start, and many registries rc cleans are plain http on a private network.
   */
  private connectTls(connections: OriginConnections): Socket {
    this.tlsConnect ??= (createRequire(import.meta.url)('node:tls') as typeof import('node:tls')).connect;
    const { origin } = connections;
    const options: ConnectionOptions = {
      host: origin.hostname,
      port: origin.port,
      // SNI names a host, never an address.
      ...(isIP(origin.hostname) === 0 && { servername: origin.hostname }),
      ...this.options.tls,
      ...(connections.session && { session: connections.session }),
    };
    const socket = this.tlsConnect(options);
    socket.on('session', (session: Buffer) => (connections.session = session));
    // As Node's https agent does: a session whose connection failed is not offered again.
    socket.once('error', () => (connections.session = undefined));
    return socket;
  }
}

export interface RequestInit {
  method: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/**
 * The request as it goes on the wire. Refuses a path or header that would end the request line
 * or a header early (the error names the header, never its value: it may be a credential).
 */
function requestBytes(origin: Origin, path: string, init: RequestInit): string | Buffer {
  if (unsafePath.test(path)) throw new TypeError(`request path contains characters that cannot be sent: ${JSON.stringify(path.slice(0, 80))}`);
  const host = origin.hostname.includes(':') ? `[${origin.hostname}]` : origin.hostname;
  const port = origin.port === (origin.secure ? 443 : 80) ? '' : `:${origin.port}`;
  let head = `${init.method} ${path} HTTP/1.1\r\nHost: ${host}${port}\r\nConnection: keep-alive\r\n`;
  const headers = init.headers ?? {};
  for (const name in headers) {
    const value = headers[name]!;
    if (!httpToken.test(name) || unsafeValue.test(value)) throw new TypeError(`request header ${JSON.stringify(name.slice(0, 40))} cannot be sent: its name or value holds a line break or another character HTTP does not allow`);
    if (!ownHeaders.has(name.toLowerCase())) head += `${name}: ${value}\r\n`;
  }
  // A length, not chunked encoding: some proxies in front of registries refuse chunked bodies.
  if (init.body !== undefined || !bodyless.has(init.method)) head += `Content-Length: ${init.body === undefined ? 0 : Buffer.byteLength(init.body)}\r\n`;
  head += '\r\n';
  if (init.body === undefined || init.body.length === 0) return head;
  return Buffer.concat([Buffer.from(head, 'latin1'), typeof init.body === 'string' ? Buffer.from(init.body) : init.body]);
}

/** Why a request ends when the pool is closed under it: nothing to ask again. */
function clientClosed(): TransportError {
  return new TransportError('CLOSED', 'the client was closed');
}

/**
 * Fails a new connection with CONNECT_TIMEOUT if it is still connecting after `ms`. (A TLS socket
 * says `connect` once TCP is up: the handshake counts against the request's timeout.)
 */
function limitConnect(socket: Socket, ms: number): void {
  const timer = setTimeout(() => socket.destroy(new TransportError('CONNECT_TIMEOUT', `could not connect within ${ms / 1000} s`)), ms);
  socket.once('connect', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
}
