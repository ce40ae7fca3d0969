import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of a real registry that holds every `tags/list` request for
 * `delayMs` and records how many were held at once: what a user would see as "how many
 * requests rc keeps in flight". A request counts from its arrival until its answer starts,
 * so sequential requests can never overlap in the count.
 */
export interface CountingProxy {
  /** `127.0.0.1:PORT`, for image references. */
  host: string;
  /** Most `tags/list` requests held at the same time since the last reset. */
  maxInFlight(): number;
  /** `tags/list` requests seen since the last reset. */
  total(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(targetUrl: string, delayMs: number): Promise<CountingProxy> {
  const target = new URL(targetUrl);
  let inFlight = 0;
  let max = 0;
  let total = 0;
  const server = http.createServer((req, res) => {
    const counted = /\/tags\/list(\?|$)/.test(req.url ?? '');
    if (counted) {
      inFlight += 1;
      total += 1;
      max = Math.max(max, inFlight);
    }
    let released = !counted;
    const release = () => {
      if (!released) {
        released = true;
        inFlight -= 1;
      }
    };
    res.on('close', release);
    setTimeout(
      () => {
        const upstream = http.request(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
          (answer) => {
            release();
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => {
          release();
          if (!res.headersSent) res.writeHead(502);
          res.end();
        });
        req.pipe(upstream);
      },
      counted ? delayMs : 0,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    maxInFlight: () => max,
    total: () => total,
    reset() {
      max = inFlight;
      total = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
