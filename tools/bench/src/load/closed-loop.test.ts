import { describe, expect, it } from 'vitest';
import { runClosedLoop } from './closed-loop.js';

/** A clock that only moves when a fake request takes time: the loop becomes deterministic. */
function fakeClock() {
  let now = 0;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('runClosedLoop', () => {
  it('records only requests that complete inside the window, then stops by itself', async () => {
    const clock = fakeClock();
    const recorded: number[] = [];
    const outcome = await runClosedLoop({
      call: async () => clock.advance(1),
      concurrency: 1,
      warmupMs: 10,
      durationMs: 20,
      maxCalls: 1_000,
      record: (micros) => recorded.push(micros),
      now: clock.now,
    });
    // Completions at t = 10..29 fall in [10, 30).
    expect(outcome).toMatchObject({
      completed: 20,
      errors: 0,
      windowMs: 20,
      started: 30,
      hitCallLimit: false,
    });
    expect(recorded).toEqual(Array.from({ length: 20 }, () => 1000));
  });

  it('keeps `concurrency` requests in flight and hands each its lane', async () => {
    const clock = fakeClock();
    const lanes = new Set<number>();
    let inFlight = 0;
    let most = 0;
    const outcome = await runClosedLoop({
      call: async (lane) => {
        lanes.add(lane);
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        clock.advance(0.25);
        inFlight--;
      },
      concurrency: 4,
      warmupMs: 0,
      durationMs: 10,
      maxCalls: 1_000,
      record: () => undefined,
      now: clock.now,
    });
    expect([...lanes].sort()).toEqual([0, 1, 2, 3]);
    expect(most).toBe(4);
    expect(outcome.completed).toBeGreaterThan(0);
  });

  it('counts failures apart, with distinct samples, and never records them', async () => {
    const clock = fakeClock();
    let n = 0;
    const recorded: number[] = [];
    const outcome = await runClosedLoop({
      call: async () => {
        clock.advance(1);
        if (n++ % 2 === 0) throw new Error('UNAVAILABLE');
      },
      concurrency: 1,
      warmupMs: 0,
      durationMs: 10,
      maxCalls: 1_000,
      record: (micros) => recorded.push(micros),
      now: clock.now,
    });
    expect(outcome.errors).toBe(5);
    expect(outcome.errorSamples).toEqual(['UNAVAILABLE']);
    expect(outcome.completed).toBe(recorded.length);
    expect(outcome.completed).toBe(4);
  });

  it('ends at maxCalls even when the clock never moves', async () => {
    const outcome = await runClosedLoop({
      call: async () => undefined,
      concurrency: 3,
      warmupMs: 0,
      durationMs: 1_000,
      maxCalls: 50,
      record: () => undefined,
      now: () => 0,
    });
    expect(outcome).toMatchObject({ started: 50, completed: 50, hitCallLimit: true });
  });
});
