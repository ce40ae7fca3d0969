import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A loopback HTTP proxy in front of a registry that counts what passes through it, per method
 * and route class (`HEAD manifests/<tag>`, `GET tags/list`, …), without changing anything.
 * rc, skopeo and the seed script are pointed at its port instead of the registry's, so their
 * requests are counted without touching their code. Bodies are streamed through as they are.
 */
export interface RequestCounts {
  total: number;
  /** Requests per `METHOD route-class`. */
  byClass: Record<string, number>;
  /** Responses per status code. */
  byStatus: Record<string, number>;
  /** Requests that repeat an earlier identical method + path + query (e.g. a second tags/list of a repository). */
  repeats: number;
  /** The same, per class. */
  repeatsByClass: Record<string, number>;
  /** When the first and the last request of each class arrived (`performance.now()` ms). */
  spans: Record<string, { first: number; last: number }>;
}

export interface CountingProxy {
  readonly port: number;
  readonly host: string;
  /** Counts since the last reset. */
  counts(): RequestCounts;
  reset(): void;
  close(): Promise<void>;
}

/** The route class of a registry API request: the method and the path with names and references abstracted. */
export function routeClass(method: string, rawUrl: string): string {
  const path = rawUrl.split('?')[0] ?? '';
  if (path === '/v2/' || path === '/v2') return `${method} /v2/`;
  if (path === '/v2/_catalog') return `${method} _catalog`;
  if (/^\/v2\/.+\/tags\/list$/.test(path)) return `${method} tags/list`;
  const manifest = /^\/v2\/.+\/manifests\/([^/]+)$/.exec(path);
  if (manifest) return `${method} manifests/${/^sha(256|512):/.test(decodeURIComponent(manifest[1] ?? '')) ? '<digest>' : '<tag>'}`;
  if (/^\/v2\/.+\/blobs\/uploads\/?$/.test(path)) return `${method} blobs/uploads/`;
  if (/^\/v2\/.+\/blobs\/uploads\/[^/]+$/.test(path)) return `${method} blobs/uploads/<id>`;
  if (/^\/v2\/.+\/blobs\/[^/]+$/.test(path)) return `${method} blobs/<digest>`;
  return `${method} other`;
}

const bump = (record: Record<string, number>, key: string): void => {
  record[key] = (record[key] ?? 0) + 1;
};

export async function startCountingProxy(upstreamPort: number): Promise<CountingProxy> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512, keepAliveMsecs: 10_000 });
  let counts: RequestCounts;
  let seen: Set<string>;
  const reset = (): void => {
    counts = { total: 0, byClass: {}, byStatus: {}, repeats: 0, repeatsByClass: {}, spans: {} };
    seen = new Set();
  };
  reset();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const cls = routeClass(method, url);
    counts.total++;
    bump(counts.byClass, cls);
    const now = performance.now();
    const span = counts.spans[cls];
    if (span) span.last = now;
    else counts.spans[cls] = { first: now, last: now };
    const key = `${method} ${url}`;
    if (seen.has(key)) {
      counts.repeats++;
      bump(counts.repeatsByClass, cls);
    } else seen.add(key);

    // The Host header stays the proxy's, so the registry builds upload Locations on the proxy's port.
    const upstream = request({ host: '127.0.0.1', port: upstreamPort, method, path: url, headers: req.headers, agent }, (answer) => {
      bump(counts.byStatus, String(answer.statusCode ?? 0));
      const location = answer.headers.location;
      // Should a Location still name the registry's own port, keep the client on the proxy.
      if (typeof location === 'string') answer.headers.location = location.replace(`//127.0.0.1:${upstreamPort}/`, `//127.0.0.1:${port}/`);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      // The registry restarting (rc's GC run) drops connections: answer as a gateway would.
      bump(counts.byStatus, '502');
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`counting proxy: ${error.message}`);
    });
    req.pipe(upstream);
  };

  const server: Server = createServer({ keepAliveTimeout: 10_000 }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host: `127.0.0.1:${port}`,
    counts: () => structuredClone(counts),
    reset,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
