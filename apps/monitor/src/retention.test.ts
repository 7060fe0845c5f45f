import { createLogger } from '@slipway/service-kit';
import { describe, expect, it } from 'vitest';
import type { PredictionStore } from './store/prediction-store.js';
import { startRetention } from './retention.js';

const DAY_MS = 86_400_000;

function fakeStore(): PredictionStore & { cutoffs: number[] } {
  const cutoffs: number[] = [];
  return {
    cutoffs,
    insert: () => Promise.reject(new Error('not used')),
    list: () => Promise.reject(new Error('not used')),
    window: () => Promise.reject(new Error('not used')),
    deleteBefore: async (cutoffMs) => {
      cutoffs.push(cutoffMs);
      return 0;
    },
  };
}

describe('startRetention', () => {
  it('sweeps at start and on demand with the cutoff now minus the retention', async () => {
    const store = fakeStore();
    const now = 100 * DAY_MS;
    const retention = startRetention({
      store,
      retentionDays: 7,
      logger: createLogger('monitor', { level: 'silent' }),
      now: () => now,
    });
    try {
      await retention.sweep();
      expect(store.cutoffs.length).toBeGreaterThanOrEqual(1);
      expect(new Set(store.cutoffs)).toEqual(new Set([93 * DAY_MS]));
    } finally {
      await retention.shutdown();
    }
    const after = store.cutoffs.length;
    expect(await retention.sweep()).toBe(0);
    expect(store.cutoffs).toHaveLength(after);
  });

  it('sweeps again every interval and survives a failing sweep', async () => {
    let calls = 0;
    const store: PredictionStore = {
      ...fakeStore(),
      deleteBefore: async () => {
        calls++;
        if (calls === 1) throw new Error('disk I/O error');
        return 3;
      },
    };
    const retention = startRetention({
      store,
      retentionDays: 1,
      logger: createLogger('monitor', { level: 'silent' }),
      intervalMs: 10,
    });
    try {
      await expect.poll(() => calls, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    } finally {
      await retention.shutdown();
    }
  });
});
