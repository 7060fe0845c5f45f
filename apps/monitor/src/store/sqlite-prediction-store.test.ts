import { join } from 'node:path';
import { createQuantileSketch } from '@slipway/monitoring';
import { createSeededRandom } from '@slipway/onnx';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../db/open-database.js';
import type { Traffic } from './monitor-store.js';
import type { Prediction } from './prediction-store.js';
import { createSqlitePredictionStore, type SqlitePredictionStoreOptions } from './sqlite-prediction-store.js';

async function openStore(options: SqlitePredictionStoreOptions = {}) {
  const dir = await createTempDir('monitor-store-');
  const file = join(dir.path, 'monitor.db');
  const database = openDatabase({ file });
  return { database, file, store: createSqlitePredictionStore(database, options) };
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

const MINUTE = 60_000;
const STATUSES = ['OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'UNAVAILABLE', 'DEADLINE_EXCEEDED'];

/** Records of two variants spread over ~10 minutes from `start`, with varied statuses and latencies. */
function traffic(count: number, start: number, seed = 7): Prediction[] {
  const random = createSeededRandom(seed);
  return Array.from({ length: count }, (_, i) =>
    prediction(i, start + random.int(10 * MINUTE), {
      variant: i % 3 === 0 ? 'candidate' : 'stable',
      version: i % 3 === 0 ? 2 : 1,
      status: STATUSES[random.int(STATUSES.length)]!,
      latencyMs: Math.exp(random.normal() + 2),
    }),
  );
}

/** What `traffic()` must answer, computed from the records themselves. */
function expected(records: readonly Prediction[], fromMs: number, toMs: number) {
  const byVariant = new Map<
    string,
    { requests: number; errors: number; byStatus: Record<string, number>; latencies: number[] }
  >();
  for (const r of records) {
    if (r.timeMs < fromMs || r.timeMs >= toMs) continue;
    let v = byVariant.get(r.variant);
    if (!v) byVariant.set(r.variant, (v = { requests: 0, errors: 0, byStatus: {}, latencies: [] }));
    v.requests++;
    if (r.status !== 'OK') v.errors++;
    v.byStatus[r.status] = (v.byStatus[r.status] ?? 0) + 1;
    v.latencies.push(r.latencyMs);
  }
  return byVariant;
}

function summary(t: Traffic) {
  return { requests: t.requests, errors: t.errors, byStatus: t.byStatus };
}

describe('traffic rollups', () => {
  it('answers any window exactly: whole minutes from rollups, partial minutes from records', async () => {
    const { database, store } = await openStore();
    try {
      const start = 1_000 * MINUTE;
      const records = traffic(3_000, start);
      // Several chunks, so rollup rows are merged into as well as created.
      for (let i = 0; i < records.length; i += 700) await store.insert(records.slice(i, i + 700));
      for (const [fromMs, toMs] of [
        [start, start + 10 * MINUTE],
        [start + 12_345, start + 7 * MINUTE + 999],
        [start + 30_000, start + 50_000],
        [start + 2 * MINUTE, start + 5 * MINUTE],
      ] as const) {
        const got = await store.traffic({ deployment: 'fraud', fromMs, toMs });
        const want = expected(records, fromMs, toMs);
        expect(new Set(got.map((t) => t.variant))).toEqual(new Set(want.keys()));
        for (const t of got) {
          const w = want.get(t.variant)!;
          expect(summary(t)).toEqual({ requests: w.requests, errors: w.errors, byStatus: w.byStatus });
          // Merged minute sketches hold exactly the buckets of one sketch of every value.
          const direct = createQuantileSketch();
          for (const ms of w.latencies) direct.add(ms);
          for (const q of [0.5, 0.95, 0.99]) expect(t.latency.quantile(q)).toBe(direct.quantile(q));
          expect(t.version).toBe(t.variant === 'candidate' ? 2 : 1);
        }
      }
      expect(await store.traffic({ deployment: 'churn', fromMs: start, toMs: start + 10 * MINUTE })).toEqual(
        [],
      );
    } finally {
      database.close();
    }
  });

  it('counts a replayed record once', async () => {
    const { database, store } = await openStore();
    try {
      const records = traffic(100, 0);
      expect(await store.insert(records)).toMatchObject({ accepted: 100, duplicates: 0 });
      expect(await store.insert(records)).toEqual({ accepted: 0, duplicates: 100, stored: [] });
      const got = await store.traffic({ deployment: 'fraud', fromMs: 0, toMs: 20 * MINUTE });
      expect(got.reduce((n, t) => n + t.requests, 0)).toBe(100);
    } finally {
      database.close();
    }
  });

  it('keeps rollups, outcomes and assignments past record retention, for as long as configured', async () => {
    const { database, store } = await openStore({ summaryExtraRetentionMs: 20 * MINUTE });
    try {
      const records = traffic(200, 0).map((r) => ({ ...r, experiment: 'e', unitKey: `u${r.requestId}` }));
      await store.insert(records);
      await store.insertOutcomes([
        {
          outcomeId: 'o1',
          requestId: 'req-1',
          unitKey: '',
          deployment: '',
          label: undefined,
          kpi: 'converted',
          value: 1,
          timeMs: 1,
        },
      ]);
      expect(await store.deleteBefore(20 * MINUTE)).toBe(200);
      expect((await store.list({ limit: 10 })).total).toBe(0);
      const kept = await store.traffic({ deployment: 'fraud', fromMs: 0, toMs: 20 * MINUTE });
      expect(kept.reduce((n, t) => n + t.requests, 0)).toBe(200);
      expect(await store.experimentUnits('e')).toHaveLength(200);
      expect(await store.kpis()).toEqual(['converted']);
      // Past the longer retention they go too.
      await store.deleteBefore(31 * MINUTE);
      expect(await store.traffic({ deployment: 'fraud', fromMs: 0, toMs: 20 * MINUTE })).toEqual([]);
      expect(await store.experimentUnits('e')).toEqual([]);
      expect(await store.kpis()).toEqual([]);
      expect(await store.hasDeployment('fraud')).toBe(false);
    } finally {
      database.close();
    }
  });

  it('rebuilds the rollups of records stored before they existed, once, at open', async () => {
    const first = await openStore();
    const records = traffic(1_234, 5 * MINUTE).map((r, i) =>
      i % 2 === 0 ? { ...r, experiment: 'e', experimentArm: r.variant, unitKey: `u${i % 100}` } : r,
    );
    await first.store.insert(records);
    const before = await first.store.traffic({ deployment: 'fraud', fromMs: 0, toMs: 60 * MINUTE });
    const units = await first.store.experimentUnits('e');
    // An upgraded data directory: records, but no summaries yet.
    first.database.sqlite.exec('DELETE FROM prediction_rollups; DELETE FROM experiment_units');
    first.database.close();

    const database = openDatabase({ file: first.file });
    try {
      const store = createSqlitePredictionStore(database);
      const after = await store.traffic({ deployment: 'fraud', fromMs: 0, toMs: 60 * MINUTE });
      const byVariant = (ts: Traffic[]) => Object.fromEntries(ts.map((t) => [t.variant, summary(t)]));
      expect(byVariant(after)).toEqual(byVariant(before));
      expect(await store.experimentUnits('e')).toEqual(units);
    } finally {
      database.close();
    }
  });
});

describe('experiment units', () => {
  it('keeps the arm of the earliest prediction of a unit, whatever order records arrive in', async () => {
    const { database, store } = await openStore();
    try {
      const record = (i: number, timeMs: number, arm: string, overrides: Partial<Prediction> = {}) =>
        prediction(i, timeMs, { experiment: 'e', experimentArm: arm, unitKey: 'u1', ...overrides });
      await store.insert([record(1, 5_000, 'treatment')]);
      await store.insert([record(2, 1_000, 'control'), record(3, 9_000, 'treatment')]);
      // Shadow records and records without a unit assign nothing.
      await store.insert([record(4, 10, 'shadowy', { shadow: true }), record(5, 10, 'x', { unitKey: '' })]);
      expect(await store.experimentUnits('e')).toEqual([
        { unitKey: 'u1', deployment: 'fraud', arm: 'control', firstTimeMs: 1_000 },
      ]);
      expect(await store.experiments()).toEqual(['e']);
    } finally {
      database.close();
    }
  });
});
