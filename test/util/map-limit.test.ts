import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/util/map-limit.js';

describe('bounded concurrency', () => {
  it('never runs more than the limit at once and keeps input order', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      peak = Math.max(peak, ++running);
      await sleep(n);
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('waits for work already started before reporting a failure, and starts nothing new', async () => {
    const finished: number[] = [];
    const started: number[] = [];
    const run = mapLimit([1, 2, 3, 4], 2, async (n) => {
      started.push(n);
      if (n === 1) throw new Error('boom');
      await sleep(20);
      finished.push(n);
    });
    await expect(run).rejects.toThrow('boom');
    expect(finished).toEqual([2]);
    expect(started).toEqual([1, 2]);
  });

  it('stops starting work once aborted, after what is in flight has finished', async () => {
    const controller = new AbortController();
    const finished: number[] = [];
    const run = mapLimit(
      [1, 2, 3, 4, 5],
      1,
      async (n) => {
        if (n === 2) controller.abort(new Error('interrupted'));
        await sleep(5);
        finished.push(n);
      },
      controller.signal,
    );
    await expect(run).rejects.toThrow('interrupted');
    expect(finished).toEqual([1, 2]);
  });
});
