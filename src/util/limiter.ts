/**
 * At most `slots` tasks run at once; the others wait their turn, in order. A waiting task is a
 * closure, not a request already built: thousands of queued requests would otherwise sit in the
 * HTTP client long enough to be promoted to the old generation (megabytes of garbage per second).
 */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly slots: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.slots) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes straight to the next task waiting, if any.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
