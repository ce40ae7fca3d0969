import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Limiter } from '../../src/util/limiter.js';

describe('Limiter', () => {
  it('runs at most its slots at once, starts the waiting in order, and frees a slot when a task fails', async () => {
    const limiter = new Limiter(3);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        limiter.run(async () => {
          started.push(i);
          most = Math.max(most, ++running);
          await sleep(5);
          running--;
          if (i % 4 === 0) throw new Error(`task ${i}`);
          return i;
        }),
      ),
    );
    expect(most).toBe(3);
    expect(started).toEqual([...Array(12).keys()]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
    expect(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))).toEqual([1, 2, 3, 5, 6, 7, 9, 10, 11]);
  });

  it('frees the slot of a task that throws before it returns a promise', async () => {
    const limiter = new Limiter(1);
    const broken = limiter.run((): Promise<number> => {
      throw new Error('no promise');
    });
    await expect(broken).rejects.toThrow('no promise');
    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
  });
});
