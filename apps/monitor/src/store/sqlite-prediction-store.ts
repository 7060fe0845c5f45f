import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { createQuantileSketch, deserializeQuantileSketch, type QuantileSketch } from '@slipway/monitoring';
import type { Statement } from 'better-sqlite3';
import { and, asc, count, desc, eq, getTableColumns, gte, lt, sql, type Placeholder } from 'drizzle-orm';
import type { MonitorDatabase } from '../db/open-database.js';
import { outcomes, predictionRecords } from '../db/schema.js';
import type {
  MonitorStore,
  OutcomeRecord,
  RecordsInsertOutcome,
  SeriesKey,
  ShadowPairRow,
  StoredCount,
  Traffic,
} from './monitor-store.js';
import type { Prediction } from './prediction-store.js';
import { decodeFloat32, decodeFloat64, encodeFloat32, encodeFloat64, firstFloat64 } from './vectors.js';

/** Rows deleted per retention statement: each batch holds the write lock only briefly. */
const DELETE_BATCH = 5_000;
/** Shadow pairs handed to the caller at a time: a long window never sits in memory whole. */
const SHADOW_BATCH = 10_000;
const MINUTE_MS = 60_000;
/** Records read per page when rollups are rebuilt from records. */
const BACKFILL_PAGE = 5_000;

type Row = typeof predictionRecords.$inferSelect;
type OutcomeRow = typeof outcomes.$inferSelect;

/** Options of {@link createSqlitePredictionStore}. */
export interface SqlitePredictionStoreOptions {
  /**
   * How much longer than records the rollups, outcomes and experiment assignments are kept:
   * `deleteBefore(cutoff)` deletes those before `cutoff − summaryExtraRetentionMs`. Default 0.
   */
  readonly summaryExtraRetentionMs?: number;
}

function toRow(p: Prediction): Row {
  return {
    requestId: p.requestId,
    variant: p.variant,
    deployment: p.deployment,
    model: p.model,
    version: p.version,
    features: encodeFloat32(p.features),
    outputs: encodeFloat64(p.outputs),
    latencyMs: p.latencyMs,
    status: p.status,
    time: p.timeMs,
    experiment: p.experiment,
    experimentArm: p.experimentArm,
    unitKey: p.unitKey,
    source: p.source,
    shadow: p.shadow,
    featureSetHash: p.featureSetHash,
    entityKeys: JSON.stringify(p.entityKeys),
    error: p.error,
  };
}

function fromRow(row: Row): Prediction {
  return {
    requestId: row.requestId,
    variant: row.variant,
    deployment: row.deployment,
    model: row.model,
    version: row.version,
    features: decodeFloat32(row.features),
    outputs: decodeFloat64(row.outputs),
    latencyMs: row.latencyMs,
    status: row.status,
    timeMs: row.time,
    experiment: row.experiment,
    experimentArm: row.experimentArm,
    unitKey: row.unitKey,
    source: row.source,
    shadow: row.shadow,
    featureSetHash: row.featureSetHash,
    entityKeys: JSON.parse(row.entityKeys) as Record<string, string>,
    error: row.error,
  };
}

function toOutcomeRow(o: OutcomeRecord): OutcomeRow {
  return {
    outcomeId: o.outcomeId,
    requestId: o.requestId,
    unitKey: o.unitKey,
    deployment: o.deployment,
    label: o.label ?? null,
    kpi: o.kpi,
    value: o.value,
    time: o.timeMs,
  };
}

/** Traffic being summed up: one series, counts and a sketch. */
interface TrafficAccumulator {
  readonly key: SeriesKey;
  requests: number;
  errors: number;
  readonly byStatus: Map<string, number>;
  readonly latency: QuantileSketch;
}

// NUL cannot appear in names the router sends, so joined fields identify a series; cheaper per
// record than JSON.stringify.
function seriesId(k: SeriesKey): string {
  return `${k.deployment}\u0000${k.variant}\u0000${k.model}\u0000${k.version}\u0000${k.shadow ? 1 : 0}`;
}

function accumulator(key: SeriesKey): TrafficAccumulator {
  return { key, requests: 0, errors: 0, byStatus: new Map(), latency: createQuantileSketch() };
}

function addRequest(acc: TrafficAccumulator, status: string, latencyMs: number): void {
  acc.requests++;
  if (status !== 'OK') acc.errors++;
  acc.byStatus.set(status, (acc.byStatus.get(status) ?? 0) + 1);
  // A latency the sketch cannot hold (negative, NaN, infinite) is a recording fault, not a time.
  if (Number.isFinite(latencyMs) && latencyMs >= 0) acc.latency.add(latencyMs);
}

function addRollup(acc: TrafficAccumulator, row: RollupRow): void {
  acc.requests += row.requests;
  acc.errors += row.errors;
  for (const [status, n] of Object.entries(JSON.parse(row.by_status) as Record<string, number>)) {
    acc.byStatus.set(status, (acc.byStatus.get(status) ?? 0) + n);
  }
  acc.latency.merge(deserializeQuantileSketch(row.latency));
}

function traffic(acc: TrafficAccumulator): Traffic {
  return {
    ...acc.key,
    requests: acc.requests,
    errors: acc.errors,
    byStatus: Object.fromEntries([...acc.byStatus].sort(([a], [b]) => a.localeCompare(b))),
    latency: acc.latency,
  };
}

interface RollupRow {
  deployment: string;
  variant: string;
  model: string;
  version: number;
  shadow: number;
  minute: number;
  requests: number;
  errors: number;
  by_status: string;
  latency: Buffer;
}

interface TrafficRow {
  deployment: string;
  variant: string;
  model: string;
  version: number;
  shadow: number;
  status: string;
  latency_ms: number;
}

/**
 * The {@link MonitorStore} on SQLite. Records live in `prediction_records` keyed by (request id,
 * variant); an insert is one `BEGIN IMMEDIATE` transaction of `INSERT … ON CONFLICT DO NOTHING`
 * statements that also merges the accepted records into `prediction_rollups` (per minute and
 * series) and `experiment_units`. It is durable when it returns because the monitor's connection
 * runs with `synchronous=FULL` (see `openDatabase`). A database whose records predate the rollups
 * (an upgrade) gets them rebuilt once, here.
 */
export function createSqlitePredictionStore(
  database: MonitorDatabase,
  options: SqlitePredictionStoreOptions = {},
): MonitorStore {
  const { db, sqlite } = database;
  const summaryExtraMs = options.summaryExtraRetentionMs ?? 0;
  const t = predictionRecords;
  const placeholders = Object.fromEntries(
    Object.keys(getTableColumns(t)).map((key) => [key, sql.placeholder(key)]),
  ) as { [K in keyof Row]: Placeholder<K> };
  const insertRecord = db.insert(t).values(placeholders).onConflictDoNothing().prepare();
  const outcomePlaceholders = Object.fromEntries(
    Object.keys(getTableColumns(outcomes)).map((key) => [key, sql.placeholder(key)]),
  ) as { [K in keyof OutcomeRow]: Placeholder<K> };
  const insertOutcome = db.insert(outcomes).values(outcomePlaceholders).onConflictDoNothing().prepare();

  const statements = new Map<string, Statement>();
  // Prepared once per distinct SQL text (the optional filters give a few variants of a query).
  const prepare = <P extends unknown[] = unknown[], R = unknown>(text: string): Statement<P, R> => {
    let statement = statements.get(text);
    if (!statement) {
      statement = sqlite.prepare(text);
      statements.set(text, statement);
    }
    return statement as unknown as Statement<P, R>;
  };

  // Raw SQL: drizzle has no DELETE … LIMIT, and the rowid subquery keeps each batch small.
  const deleteBatch = (table: string, column: string, cutoffMs: number): number =>
    prepare<[number, number]>(
      `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} < ? LIMIT ?)`,
    ).run(cutoffMs, DELETE_BATCH).changes;

  const selectRollup = sqlite.prepare<[string, string, string, number, number, number], RollupRow>(
    'SELECT * FROM prediction_rollups WHERE deployment = ? AND variant = ? AND model = ? AND version = ? ' +
      'AND shadow = ? AND minute = ?',
  );
  const upsertRollup = sqlite.prepare<
    [string, string, string, number, number, number, number, number, string, Buffer]
  >(
    'INSERT INTO prediction_rollups (deployment, variant, model, version, shadow, minute, requests, errors, ' +
      'by_status, latency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ' +
      'ON CONFLICT (deployment, variant, model, version, shadow, minute) DO UPDATE SET ' +
      'requests = excluded.requests, errors = excluded.errors, by_status = excluded.by_status, ' +
      'latency = excluded.latency',
  );
  // The earliest prediction decides a unit's arm, whatever order the records arrive in.
  const upsertUnit = sqlite.prepare<[string, string, string, string, number]>(
    'INSERT INTO experiment_units (experiment, unit_key, deployment, arm, first_time) VALUES (?, ?, ?, ?, ?) ' +
      'ON CONFLICT (experiment, unit_key) DO UPDATE SET deployment = excluded.deployment, arm = excluded.arm, ' +
      'first_time = excluded.first_time WHERE excluded.first_time < experiment_units.first_time',
  );

  /** Merges per-minute accumulators into their stored rollups. */
  const writeRollups = (minutes: Map<string, TrafficAccumulator & { minute: number }>): void => {
    for (const acc of minutes.values()) {
      const k = acc.key;
      const shadow = k.shadow ? 1 : 0;
      const existing = selectRollup.get(k.deployment, k.variant, k.model, k.version, shadow, acc.minute);
      if (existing) addRollup(acc, existing);
      upsertRollup.run(
        k.deployment,
        k.variant,
        k.model,
        k.version,
        shadow,
        acc.minute,
        acc.requests,
        acc.errors,
        JSON.stringify(Object.fromEntries(acc.byStatus)),
        Buffer.from(acc.latency.serialize()),
      );
    }
  };

  /** Adds a stored record to the summaries being built (rollups per minute, experiment units). */
  const summarize = (minutes: Map<string, TrafficAccumulator & { minute: number }>, p: Prediction): void => {
    const minute = Math.floor(p.timeMs / MINUTE_MS) * MINUTE_MS;
    const id = `${seriesId(p)}\u0000${minute}`;
    let acc = minutes.get(id);
    if (!acc) {
      const key = {
        deployment: p.deployment,
        variant: p.variant,
        model: p.model,
        version: p.version,
        shadow: p.shadow,
      };
      acc = { ...accumulator(key), minute };
      minutes.set(id, acc);
    }
    addRequest(acc, p.status, p.latencyMs);
    if (p.experiment !== '' && p.unitKey !== '' && !p.shadow) {
      upsertUnit.run(p.experiment, p.unitKey, p.deployment, p.experimentArm || p.variant, p.timeMs);
    }
  };

  const insertAll = sqlite.transaction((records: readonly Prediction[]): RecordsInsertOutcome => {
    let accepted = 0;
    const minutes = new Map<string, TrafficAccumulator & { minute: number }>();
    const stored = new Map<string, StoredCount & { count: number }>();
    for (const record of records) {
      if (insertRecord.run(toRow(record)).changes === 0) continue;
      accepted++;
      summarize(minutes, record);
      const id = `${record.deployment}\u0000${record.variant}\u0000${record.status}`;
      const counted = stored.get(id);
      if (counted) counted.count++;
      else
        stored.set(id, {
          deployment: record.deployment,
          variant: record.variant,
          status: record.status,
          count: 1,
        });
    }
    writeRollups(minutes);
    return { accepted, duplicates: records.length - accepted, stored: [...stored.values()] };
  });

  const insertOutcomes = sqlite.transaction((rows: readonly OutcomeRecord[]) => {
    let accepted = 0;
    for (const o of rows) accepted += insertOutcome.run(toOutcomeRow(o)).changes;
    return { accepted, duplicates: rows.length - accepted };
  });

  // Records stored before the rollups existed (an upgraded data directory) are summarized once,
  // in pages (bounded memory) of one transaction: a crash midway leaves no partial rollups behind.
  const backfill = sqlite.transaction((): void => {
    const hasRollups = sqlite.prepare('SELECT 1 FROM prediction_rollups LIMIT 1').get() !== undefined;
    const hasRecords = sqlite.prepare('SELECT 1 FROM prediction_records LIMIT 1').get() !== undefined;
    if (hasRollups || !hasRecords) return;
    const page = db
      .select({ rowid: sql<number>`rowid`, ...getTableColumns(t) })
      .from(t)
      .where(sql`rowid > ${sql.placeholder('after')}`)
      .orderBy(sql`rowid`)
      .limit(BACKFILL_PAGE)
      .prepare();
    for (let after = 0; ;) {
      const rows = page.all({ after });
      const minutes = new Map<string, TrafficAccumulator & { minute: number }>();
      for (const { rowid: _rowid, ...row } of rows) summarize(minutes, fromRow(row));
      writeRollups(minutes);
      if (rows.length < BACKFILL_PAGE) return;
      after = rows.at(-1)!.rowid;
    }
  });
  backfill.immediate();

  const trafficIn = (deployment: string | undefined, fromMs: number, toMs: number): Traffic[] => {
    const series = new Map<string, TrafficAccumulator>();
    const seriesOf = (k: SeriesKey): TrafficAccumulator => {
      const id = seriesId(k);
      let acc = series.get(id);
      if (!acc) {
        acc = accumulator(k);
        series.set(id, acc);
      }
      return acc;
    };
    const where = deployment === undefined ? '' : 'deployment = ? AND ';
    const args = (from: number, to: number): unknown[] =>
      deployment === undefined ? [from, to] : [deployment, from, to];
    const raw = (from: number, to: number): void => {
      if (from >= to) return;
      const rows = prepare<unknown[], TrafficRow>(
        'SELECT deployment, variant, model, version, shadow, status, latency_ms FROM prediction_records ' +
          `WHERE ${where}time >= ? AND time < ?`,
      ).iterate(...args(from, to));
      for (const r of rows) addRequest(seriesOf(keyOf(r)), r.status, r.latency_ms);
    };
    const rollups = (from: number, to: number): void => {
      if (from >= to) return;
      const rows = prepare<unknown[], RollupRow>(
        `SELECT * FROM prediction_rollups WHERE ${where}minute >= ? AND minute < ?`,
      ).iterate(...args(from, to));
      for (const r of rows) addRollup(seriesOf(keyOf(r)), r);
    };
    const firstWhole = Math.ceil(fromMs / MINUTE_MS) * MINUTE_MS;
    const lastWhole = Math.floor(toMs / MINUTE_MS) * MINUTE_MS;
    if (firstWhole >= lastWhole) {
      raw(fromMs, toMs);
    } else {
      raw(fromMs, firstWhole);
      rollups(firstWhole, lastWhole);
      raw(lastWhole, toMs);
    }
    return [...series.values()].map(traffic);
  };

  const primaryFilter = (variant: string | undefined): string =>
    variant === undefined ? 'AND r.shadow = 0' : 'AND r.variant = ?';
  const scoredArgs = (q: {
    deployment: string;
    variant?: string;
    fromMs: number;
    toMs: number;
  }): unknown[] =>
    q.variant === undefined ? [q.deployment, q.fromMs, q.toMs] : [q.deployment, q.fromMs, q.toMs, q.variant];
  // A prediction with a score: answered (OK) with at least one output (8 bytes of float64).
  const SCORED = "r.status = 'OK' AND length(r.outputs) >= 8";

  return {
    async insert(records) {
      if (records.length === 0) return { accepted: 0, duplicates: 0, stored: [] };
      return insertAll.immediate(records);
    },

    async insertOutcomes(rows) {
      if (rows.length === 0) return { accepted: 0, duplicates: 0 };
      return insertOutcomes.immediate(rows);
    },

    async list(query) {
      const where = and(
        query.deployment !== undefined ? eq(t.deployment, query.deployment) : undefined,
        query.variant !== undefined ? eq(t.variant, query.variant) : undefined,
        query.requestId !== undefined ? eq(t.requestId, query.requestId) : undefined,
        query.shadow !== undefined ? eq(t.shadow, query.shadow) : undefined,
      );
      // One read transaction, so the page and the total describe the same state.
      return sqlite.transaction(() => {
        const rows = db
          .select()
          .from(t)
          .where(where)
          .orderBy(desc(t.time), asc(t.requestId), asc(t.variant))
          .limit(query.limit)
          .all();
        const [counted] = db.select({ total: count() }).from(t).where(where).all();
        return { records: rows.map(fromRow), total: counted?.total ?? 0 };
      })();
    },

    async window(query) {
      const rows = db
        .select()
        .from(t)
        .where(
          and(
            eq(t.deployment, query.deployment),
            query.variant !== undefined ? eq(t.variant, query.variant) : undefined,
            gte(t.time, query.fromMs),
            lt(t.time, query.toMs),
          ),
        )
        .orderBy(asc(t.time))
        .all();
      return rows.map(fromRow);
    },

    async hasDeployment(deployment) {
      return (
        prepare<[string]>('SELECT 1 FROM prediction_rollups WHERE deployment = ? LIMIT 1').get(deployment) !==
        undefined
      );
    },

    async deployments() {
      return prepare<[], { deployment: string }>(
        'SELECT DISTINCT deployment FROM prediction_rollups ORDER BY deployment',
      )
        .all()
        .map((r) => r.deployment);
    },

    async traffic(query) {
      if (query.toMs <= query.fromMs) return [];
      // One read transaction: the rollups and the edge records describe the same state.
      return sqlite.transaction(() => trafficIn(query.deployment, query.fromMs, query.toMs))();
    },

    async shadowCounts(query) {
      const rows = prepare<[string, number, number], { variant: string; n: number }>(
        'SELECT variant, COUNT(*) AS n FROM prediction_records WHERE deployment = ? AND time >= ? AND time < ? ' +
          'AND shadow = 1 GROUP BY variant',
      ).all(query.deployment, query.fromMs, query.toMs);
      return new Map(rows.map((r) => [r.variant, r.n]));
    },

    async driftSample(query) {
      const where =
        "FROM prediction_records r WHERE r.deployment = ? AND r.variant = ? AND r.model = ? AND r.version = ? AND r.time >= ? AND r.time < ? AND r.status = 'OK' AND length(r.features) > 0 AND (r.feature_set_hash = '' OR r.feature_set_hash = ?)";
      const args = [
        query.deployment,
        query.variant,
        query.model,
        query.version,
        query.fromMs,
        query.toMs,
        query.featureSetHash,
      ];
      return sqlite.transaction(() => {
        const matched = prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n ${where}`).get(...args)!.n;
        // Every k-th row in time order: an evenly spaced sample, the same on every call.
        const step = Math.max(1, Math.ceil(matched / Math.max(1, query.limit)));
        const features: Float32Array[] = [];
        const scores: number[] = [];
        let i = 0;
        const rows = prepare<unknown[], { features: Buffer; outputs: Buffer }>(
          `SELECT r.features, r.outputs ${where} ORDER BY r.time, r.request_id`,
        ).iterate(...args);
        for (const row of rows) {
          if (i++ % step !== 0) continue;
          features.push(decodeFloat32(row.features));
          scores.push(firstFloat64(row.outputs) ?? NaN);
        }
        return { matched, features, scores };
      })();
    },

    async predictionCounts(query) {
      const rows = prepare<unknown[], { bucket: number; n: number }>(
        'SELECT r.time - r.time % ? AS bucket, COUNT(*) AS n FROM prediction_records r ' +
          `WHERE r.deployment = ? AND r.time >= ? AND r.time < ? ${primaryFilter(query.variant)} AND ${SCORED} ` +
          'GROUP BY bucket',
      ).all(query.bucketMs, ...scoredArgs(query));
      return new Map(rows.map((r) => [r.bucket, r.n]));
    },

    async labelledPredictions(query) {
      // The newest label of each prediction: a corrected label replaces the first one.
      const rows = prepare<unknown[], { request_id: string; time: number; outputs: Buffer; label: number }>(
        'SELECT * FROM (SELECT r.request_id, r.time, r.outputs, (SELECT o.label FROM outcomes o ' +
          'WHERE o.request_id = r.request_id AND o.label IS NOT NULL ORDER BY o.time DESC, o.outcome_id DESC ' +
          'LIMIT 1) AS label FROM prediction_records r ' +
          `WHERE r.deployment = ? AND r.time >= ? AND r.time < ? ${primaryFilter(query.variant)} AND ${SCORED}) ` +
          'WHERE label IS NOT NULL ORDER BY time, request_id',
      ).all(...scoredArgs(query));
      return rows.map((r) => ({
        requestId: r.request_id,
        timeMs: r.time,
        score: firstFloat64(r.outputs)!,
        label: r.label,
      }));
    },

    async shadowPairs(query, onBatch) {
      sqlite.transaction(() => {
        const rows = prepare<
          [string, number, number],
          {
            request_id: string;
            primary_variant: string;
            shadow_variant: string;
            primary_outputs: Buffer;
            shadow_outputs: Buffer;
            primary_latency: number;
            shadow_latency: number;
          }
        >(
          'SELECT s.request_id, p.variant AS primary_variant, s.variant AS shadow_variant, ' +
            'p.outputs AS primary_outputs, s.outputs AS shadow_outputs, p.latency_ms AS primary_latency, ' +
            's.latency_ms AS shadow_latency FROM prediction_records s JOIN prediction_records p ' +
            'ON p.request_id = s.request_id AND p.shadow = 0 AND p.deployment = s.deployment ' +
            "WHERE s.deployment = ? AND s.time >= ? AND s.time < ? AND s.shadow = 1 AND s.status = 'OK' " +
            "AND p.status = 'OK' AND length(s.outputs) >= 8 AND length(p.outputs) >= 8 ORDER BY s.time, s.request_id",
        ).iterate(query.deployment, query.fromMs, query.toMs);
        let batch: ShadowPairRow[] = [];
        for (const r of rows) {
          batch.push({
            requestId: r.request_id,
            primaryVariant: r.primary_variant,
            shadowVariant: r.shadow_variant,
            primaryScore: firstFloat64(r.primary_outputs)!,
            shadowScore: firstFloat64(r.shadow_outputs)!,
            primaryLatencyMs: r.primary_latency,
            shadowLatencyMs: r.shadow_latency,
          });
          if (batch.length >= SHADOW_BATCH) {
            onBatch(batch);
            batch = [];
          }
        }
        if (batch.length > 0) onBatch(batch);
      })();
    },

    async experimentUnits(experiment) {
      return prepare<[string], { unit_key: string; deployment: string; arm: string; first_time: number }>(
        'SELECT unit_key, deployment, arm, first_time FROM experiment_units WHERE experiment = ? ' +
          'ORDER BY first_time, unit_key',
      )
        .all(experiment)
        .map((r) => ({
          unitKey: r.unit_key,
          deployment: r.deployment,
          arm: r.arm,
          firstTimeMs: r.first_time,
        }));
    },

    async experiments() {
      return prepare<[], { experiment: string }>(
        'SELECT DISTINCT experiment FROM experiment_units ORDER BY experiment',
      )
        .all()
        .map((r) => r.experiment);
    },

    async kpiTotals(experiment, kpi) {
      return sqlite.transaction(() => {
        const totals = new Map<string, number>();
        const add = (rows: { unit_key: string; total: number }[]): void => {
          for (const r of rows) totals.set(r.unit_key, (totals.get(r.unit_key) ?? 0) + r.total);
        };
        // Outcomes that name their unit count for it...
        add(
          prepare<[string, string], { unit_key: string; total: number }>(
            'SELECT u.unit_key, SUM(o.value) AS total FROM experiment_units u JOIN outcomes o ' +
              'ON o.kpi = ? AND o.deployment = u.deployment AND o.unit_key = u.unit_key ' +
              'WHERE u.experiment = ? GROUP BY u.unit_key',
          ).all(kpi, experiment),
        );
        // ...and outcomes that name only a request count for the unit of its prediction.
        add(
          prepare<[string, string], { unit_key: string; total: number }>(
            'SELECT p.unit_key, SUM(o.value) AS total FROM outcomes o JOIN prediction_records p ' +
              "ON p.request_id = o.request_id AND p.shadow = 0 WHERE o.kpi = ? AND o.unit_key = '' " +
              "AND o.request_id != '' AND p.experiment = ? AND p.unit_key != '' GROUP BY p.unit_key",
          ).all(kpi, experiment),
        );
        return totals;
      })();
    },

    async kpis() {
      return prepare<[], { kpi: string }>("SELECT DISTINCT kpi FROM outcomes WHERE kpi != '' ORDER BY kpi")
        .all()
        .map((r) => r.kpi);
    },

    async deleteBefore(cutoffMs) {
      const summaryCutoff = cutoffMs - summaryExtraMs;
      let deleted = 0;
      const sweeps: [table: string, column: string, cutoff: number][] = [
        ['prediction_records', 'time', cutoffMs],
        ['prediction_rollups', 'minute', summaryCutoff],
        ['outcomes', 'time', summaryCutoff],
        ['experiment_units', 'first_time', summaryCutoff],
      ];
      for (const [table, column, cutoff] of sweeps) {
        for (;;) {
          const changes = deleteBatch(table, column, cutoff);
          if (table === 'prediction_records') deleted += changes;
          if (changes < DELETE_BATCH) break;
          // Let ingestion streams commit between batches.
          await yieldToEventLoop();
        }
      }
      return deleted;
    },
  };
}

function keyOf(r: {
  deployment: string;
  variant: string;
  model: string;
  version: number;
  shadow: number;
}): SeriesKey {
  return {
    deployment: r.deployment,
    variant: r.variant,
    model: r.model,
    version: r.version,
    shadow: r.shadow !== 0,
  };
}
