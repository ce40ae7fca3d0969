import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpPoolOptions {
  /** Most connections kept open to one origin; requests beyond it wait for one to free up. */
  connections: number;
  /** A request fails once its connection stays silent this long: connecting, waiting for headers, or mid-body. */
  timeoutMs: number;
  /** TLS for https origins: a private CA, a client certificate (mTLS), or no verification at all. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean };
}

export interface HttpAnswer {
  status: number;
  /**
   * Every header as the list of its values, in order. Node joins a repeated header with ", "
   * otherwise, and a 401 that offers Bearer and Basic challenges would read as one.
   */
  headers: Record<string, string[] | undefined>;
  /** The whole body (empty for HEAD). */
  body: Buffer;
}

const IDLE_TIMEOUT_MS = 10_000;
/**
 * Connecting takes a round trip; a host that drops the attempt (down, or behind a firewall)
 * never answers at all. This fails it sooner than the request timeout (30 s by default).
 */
const CONNECT_TIMEOUT_MS = 10_000;

/** Why a request got no answer: `code` as Node names it (ECONNREFUSED, …), TIMEOUT or CONNECT_TIMEOUT. */
export class TransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/**
 * Keep-alive connections to any number of origins (the registry, a token server), over Node's
 * own http and https. Their code ships compiled in the Node binary and parses HTTP natively; a
 * bundled client (undici, used before) adds 365 KB of JavaScript to compile at start and a
 * WebAssembly parser that V8 recompiles in the background once traffic starts. On `rc ls` of
 * 1,000 tags, 15 interleaved runs each: 3% less wall time, 4% less CPU, 3 MB less RSS.
 */
export class HttpPool {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;
  private readonly connectMs: number;

  constructor(private readonly options: HttpPoolOptions) {
    // An idle connection is closed after 10 s: a proxy in front of the registry may close it first,
    // and a request sent on it just then fails. (A request's own timeout replaces this one while it runs.)
    const pool = { keepAlive: true, maxSockets: options.connections, maxFreeSockets: options.connections, timeout: IDLE_TIMEOUT_MS };
    this.http = new HttpAgent(pool);
    this.https = new HttpsAgent({ ...pool, ...options.tls });
    this.connectMs = Math.min(CONNECT_TIMEOUT_MS, options.timeoutMs);
  }

  /** Sends one request and reads the whole answer. Throws TransportError when none comes. */
  request(url: URL, init: { method: string; headers?: Record<string, string>; body?: Buffer | string }): Promise<HttpAnswer> {
    const secure = url.protocol === 'https:';
    // A length, not chunked encoding: some proxies in front of registries refuse chunked bodies.
    // (Bodyless requests, nearly all of them, send the caller's headers as they are.)
    const headers = init.body === undefined ? init.headers : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) };
    return new Promise<HttpAnswer>((resolve, reject) => {
      const fail = (error: Error & { code?: string }): void => reject(new TransportError(error.code ?? 'ERROR', error.message));
      const request = (secure ? httpsRequest : httpRequest)(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || (secure ? 443 : 80),
          path: `${url.pathname}${url.search}`,
          method: init.method,
          headers,
          agent: secure ? this.https : this.http,
          // Counts from before the connection exists, so a silent connect times out too.
          timeout: this.options.timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headersDistinct, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
          response.on('error', fail);
        },
      );
      request.on('timeout', () => request.destroy(request.socket?.connecting ? this.notConnected() : new TransportError('TIMEOUT', `no answer within ${this.options.timeoutMs / 1000} s`)));
      request.on('socket', (socket) => {
        // A new connection only (a kept-alive one is connected), and only when the request's own timeout is later.
        if (!socket.connecting || this.connectMs >= this.options.timeoutMs) return;
        const timer = setTimeout(() => request.destroy(this.notConnected()), this.connectMs);
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      request.on('error', fail);
      request.end(init.body);
    });
  }

  private notConnected(): TransportError {
    return new TransportError('CONNECT_TIMEOUT', `could not connect within ${this.connectMs / 1000} s`);
  }

  /** Closes every connection. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
