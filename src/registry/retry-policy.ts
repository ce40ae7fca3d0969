/** When and how long to wait before asking again. */
export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  /** First backoff; doubled each attempt, with jitter, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 4, baseDelayMs: 250, maxDelayMs: 8_000 };

/** Statuses worth asking again: rate limited, or the server (or a proxy in front of it) failing for now. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** GET and HEAD change nothing, so they may simply be sent again. */
export function isIdempotent(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/**
 * How long to wait before attempt `attempt` (1-based): the server's `Retry-After` (seconds or an
 * HTTP date) when it sent one, capped, else exponential backoff with jitter.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfter?: string, now = Date.now()): number {
  if (retryAfter) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now;
    if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), policy.maxDelayMs * 4);
  }
  const backoff = Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
  return backoff / 2 + Math.random() * (backoff / 2);
}
