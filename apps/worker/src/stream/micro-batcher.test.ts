import { describe, expect, it } from 'vitest';
import { createMicroBatcher } from './micro-batcher.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('createMicroBatcher', () => {
  it('sends a full batch at once and a partial one after the wait', async () => {
    const batches: number[][] = [];
    const b = createMicroBatcher<number>({
      maxBatch: 3,
      maxWaitMs: 20,
      maxInFlight: 4,
      process: async (items) => void batches.push(items),
    });
    for (const i of [1, 2, 3, 4]) b.push(i);
    expect(batches).toEqual([[1, 2, 3]]);
    await tick(5);
    expect(batches).toHaveLength(1);
    await tick(40);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('sends at once when the item is the last one waiting', async () => {
    const batches: number[][] = [];
    const b = createMicroBatcher<number>({
      maxBatch: 100,
      maxWaitMs: 10_000,
      maxInFlight: 1,
      process: async (items) => void batches.push(items),
      isLast: (i) => i === 2,
    });
    b.push(1);
    b.push(2);
    expect(batches).toEqual([[1, 2]]);
  });

  it('bounds the batches in flight; waiting items form the next batch', async () => {
    const gates = [deferred(), deferred()];
    const batches: number[][] = [];
    const b = createMicroBatcher<number>({
      maxBatch: 2,
      maxWaitMs: 1,
      maxInFlight: 1,
      process: async (items) => {
        batches.push(items);
        await gates[batches.length - 1]!.promise;
      },
    });
    for (const i of [1, 2, 3, 4, 5]) b.push(i);
    await tick(10);
    expect(batches).toEqual([[1, 2]]);
    expect(b.queued).toBe(3);
    gates[0]!.resolve();
    await tick(10);
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    gates[1]!.resolve();
    await tick(10);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
    await b.idle();
    expect(b.inFlight).toBe(0);
  });

  it('hands queued items back and reports failures', async () => {
    const errors: unknown[] = [];
    const b = createMicroBatcher<number>({
      maxBatch: 10,
      maxWaitMs: 1_000,
      maxInFlight: 1,
      process: () => Promise.reject(new Error('boom')),
      onError: (e) => errors.push(e),
    });
    b.push(1);
    expect(b.takeQueued()).toEqual([1]);
    expect(b.queued).toBe(0);
    b.push(2);
    b.push(3);
    expect(b.takeQueued()).toEqual([2, 3]);
    const c = createMicroBatcher<number>({
      maxBatch: 1,
      maxWaitMs: 1,
      maxInFlight: 1,
      process: () => Promise.reject(new Error('boom')),
      onError: (e) => errors.push(e),
    });
    c.push(1);
    await c.idle();
    expect(errors).toHaveLength(1);
  });
});
