import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

/**
 * The smallest client that can talk to the registry: one undici keep-alive pool with
 * `concurrency` connections and `concurrency` workers, no parsing beyond what a step needs.
 * Its rates are the registry's ceiling on this machine, and what the floor is computed from.
 */

/** The Accept header rc and docker send, so HEAD answers with the digest of what rc would see. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RateResult {
  requests: number;
  ms: number;
  perSecond: number;
  /** Statuses other than the expected ones. */
  unexpected: number;
}

export interface MinimalRequest {
  method: 'GET' | 'HEAD' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
}

export class MinimalClient {
  private readonly pool: Pool;

  constructor(
    origin: string,
    private readonly concurrency: number,
  ) {
    this.pool = new Pool(origin, { connections: concurrency, keepAliveTimeout: 10_000, pipelining: 1 });
  }

  /** Sends every request, `concurrency` at a time, and returns the rate. `onBody` sees GET bodies. */
  async run(requests: readonly MinimalRequest[], expected: number[], onBody?: (index: number, body: string) => void): Promise<RateResult> {
    let next = 0;
    let unexpected = 0;
    const start = performance.now();
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const index = next++;
        const item = requests[index]!;
        const response = await this.pool.request({ method: item.method, path: item.path, headers: item.headers ?? {}, reset: false });
        if (!expected.includes(response.statusCode)) unexpected++;
        if (onBody && item.method === 'GET') onBody(index, await response.body.text());
        else await response.body.dump();
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, requests.length) }, worker));
    const ms = performance.now() - start;
    return { requests: requests.length, ms, perSecond: requests.length / (ms / 1000), unexpected };
  }

  /** Like `run`, also returning the `Docker-Content-Digest` of each HEAD. */
  async heads(paths: readonly string[]): Promise<{ rate: RateResult; digests: string[] }> {
    const digests = new Array<string>(paths.length);
    let next = 0;
    let unexpected = 0;
    const start = performance.now();
    const worker = async (): Promise<void> => {
      while (next < paths.length) {
        const index = next++;
        const response = await this.pool.request({ method: 'HEAD', path: paths[index]!, headers: { accept: MANIFEST_ACCEPT }, reset: false });
        if (response.statusCode !== 200) unexpected++;
        const digest = response.headers['docker-content-digest'];
        digests[index] = Array.isArray(digest) ? (digest[0] ?? '') : (digest ?? '');
        await response.body.dump();
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, paths.length) }, worker));
    const ms = performance.now() - start;
    return { rate: { requests: paths.length, ms, perSecond: paths.length / (ms / 1000), unexpected }, digests };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** `count` requests cycling over `paths`. */
export function cycle(paths: readonly string[], count: number): string[] {
  return Array.from({ length: count }, (_, i) => paths[i % paths.length]!);
}
