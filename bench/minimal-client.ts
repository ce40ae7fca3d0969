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

export interface MinimalAnswer {
  headers: Record<string, string | string[] | undefined>;
  /** The body of a GET; '' for other methods. */
  body: string;
}

export class MinimalClient {
  private readonly pool: Pool;

  constructor(
    origin: string,
    private readonly concurrency: number,
  ) {
    this.pool = new Pool(origin, { connections: concurrency, keepAliveTimeout: 10_000, pipelining: 1 });
  }

  /**
   * Sends every request, `concurrency` at a time, and returns the rate. `onAnswer` sees each
   * answer's headers, and the body of a GET (other bodies are discarded unread).
   */
  async run(requests: readonly MinimalRequest[], expected: number[], onAnswer?: (index: number, answer: MinimalAnswer) => void): Promise<RateResult> {
    let next = 0;
    let unexpected = 0;
    const start = performance.now();
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const index = next++;
        const item = requests[index]!;
        // reset: false, or undici closes the connection after every HEAD.
        const response = await this.pool.request({ method: item.method, path: item.path, headers: item.headers ?? {}, reset: false });
        if (!expected.includes(response.statusCode)) unexpected++;
        const body = onAnswer && item.method === 'GET' ? await response.body.text() : (await response.body.dump(), '');
        onAnswer?.(index, { headers: response.headers, body });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, requests.length) }, worker));
    const ms = performance.now() - start;
    return { requests: requests.length, ms, perSecond: requests.length / (ms / 1000), unexpected };
  }

  /** HEADs of manifests (with rc's Accept header): the rate, and the `Docker-Content-Digest` of each. */
  async heads(paths: readonly string[]): Promise<{ rate: RateResult; digests: string[] }> {
    const digests = new Array<string>(paths.length);
    const rate = await this.run(
      paths.map((path) => ({ method: 'HEAD', path, headers: { accept: MANIFEST_ACCEPT } })),
      [200],
      (index, { headers }) => {
        const digest = headers['docker-content-digest'];
        digests[index] = Array.isArray(digest) ? (digest[0] ?? '') : (digest ?? '');
      },
    );
    return { rate, digests };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** `count` requests cycling over `paths`. */
export function cycle(paths: readonly string[], count: number): string[] {
  return Array.from({ length: count }, (_, i) => paths[i % paths.length]!);
}
