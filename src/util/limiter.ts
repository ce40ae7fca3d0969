/**
 * At most `slots` tasks run at once; the others wait their turn, in order. A waiting task is a
 * closure, not a request already built: thousands of queued requests would otherwise sit in the
 * HTTP client long enough to be promoted to the old generation (megabytes of garbage per second).
 */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly slots: number) {}

  run<T>(task: () => Promise<T>): Promise<T> {
    // Not an async function: a task that finds a free slot, most of them, costs no promise more.
    if (this.running < this.slots) {
      this.running++;
      return this.whileRunning(task);
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.whileRunning(task));
  }

  private whileRunning<T>(task: () => Promise<T>): Promise<T> {
    let running: Promise<T>;
    try {
      running = task();
    } catch (error) {
      this.release();
      return Promise.reject(error);
    }
    return running.then(
      (value) => {
        this.release();
        return value;
      },
      (error: unknown) => {
        this.release();
        throw error;
      },
    );
  }

  /** The slot passes straight to the next task waiting, if any. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
