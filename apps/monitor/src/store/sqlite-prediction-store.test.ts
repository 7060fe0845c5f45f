import { join } from 'node:path';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../db/open-database.js';
import type { Prediction } from './prediction-store.js';
import { createSqlitePredictionStore } from './sqlite-prediction-store.js';

async function openStore() {
  const dir = await createTempDir('monitor-store-');
  const database = openDatabase({ file: join(dir.path, 'monitor.db') });
  return { database, store: createSqlitePredictionStore(database) };
}

const prediction = (i: number, timeMs: number, overrides: Partial<Prediction> = {}): Prediction => ({
  requestId: `req-${i}`,
  variant: 'stable',
  deployment: 'fraud',
  model: 'm',
  version: 1,
  features: Float32Array.of(i, Math.fround(0.1), NaN, -Infinity),
  outputs: Float64Array.of(0.1, -0),
  latencyMs: 2,
  status: 'OK',
  timeMs,
  experiment: '',
  experimentArm: '',
  unitKey: '',
  source: 'predict',
  shadow: false,
  featureSetHash: '',
  entityKeys: {},
  error: '',
  ...overrides,
});

describe('createSqlitePredictionStore', () => {
  it('keeps vectors bit for bit, NaN, infinities and negative zero included', async () => {
    const { database, store } = await openStore();
    try {
      const stored = prediction(1, 1_000);
      await store.insert([stored]);
      const { records } = await store.list({ limit: 10 });
      expect(records).toHaveLength(1);
      const [read] = records;
      expect(new Uint8Array(read!.features.buffer)).toEqual(new Uint8Array(stored.features.buffer));
      expect(Object.is(read!.outputs[1], -0)).toBe(true);
      expect(read).toEqual(stored);
    } finally {
      database.close();
    }
  });

  it('deletes records before a cutoff in batches, leaving newer ones', async () => {
    const { database, store } = await openStore();
    try {
      const old = Array.from({ length: 12_000 }, (_, i) => prediction(i, i));
      const recent = Array.from({ length: 10 }, (_, i) => prediction(100_000 + i, 50_000 + i));
      await store.insert([...old, ...recent]);
      expect(await store.deleteBefore(50_000)).toBe(12_000);
      const { records, total } = await store.list({ limit: 100 });
      expect(total).toBe(10);
      expect(records.every((r) => r.timeMs >= 50_000)).toBe(true);
      expect(await store.deleteBefore(50_000)).toBe(0);
    } finally {
      database.close();
    }
  });
});
