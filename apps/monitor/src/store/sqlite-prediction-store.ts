import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { and, asc, count, desc, eq, getTableColumns, sql, type Placeholder } from 'drizzle-orm';
import type { MonitorDatabase } from '../db/open-database.js';
import { predictionRecords } from '../db/schema.js';
import type { InsertOutcome, Prediction, PredictionStore } from './prediction-store.js';
import { decodeFloat32, decodeFloat64, encodeFloat32, encodeFloat64 } from './vectors.js';

/** Rows deleted per retention statement: each batch holds the write lock only briefly. */
const DELETE_BATCH = 5_000;

type Row = typeof predictionRecords.$inferSelect;

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

/**
 * The {@link PredictionStore} on SQLite: one `prediction_records` table keyed by (request id,
 * variant). An insert is one `BEGIN IMMEDIATE` transaction of `INSERT … ON CONFLICT DO NOTHING`
 * statements; it is durable when it returns because the monitor's connection runs with
 * `synchronous=FULL` (see `openDatabase`).
 */
export function createSqlitePredictionStore(database: MonitorDatabase): PredictionStore {
  const { db, sqlite } = database;
  const t = predictionRecords;
  const placeholders = Object.fromEntries(
    Object.keys(getTableColumns(t)).map((key) => [key, sql.placeholder(key)]),
  ) as { [K in keyof Row]: Placeholder<K> };
  const insertRecord = db.insert(t).values(placeholders).onConflictDoNothing().prepare();
  // Raw SQL: drizzle has no DELETE … LIMIT, and the rowid subquery keeps each batch small.
  const deleteBatch = sqlite.prepare<[number, number]>(
    'DELETE FROM prediction_records WHERE rowid IN ' +
      '(SELECT rowid FROM prediction_records WHERE time < ? LIMIT ?)',
  );

  const insertAll = sqlite.transaction((records: readonly Prediction[]): InsertOutcome => {
    let accepted = 0;
    for (const record of records) accepted += insertRecord.run(toRow(record)).changes;
    return { accepted, duplicates: records.length - accepted };
  });

  return {
    async insert(records) {
      if (records.length === 0) return { accepted: 0, duplicates: 0 };
      return insertAll.immediate(records);
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

    async deleteBefore(cutoffMs) {
      let deleted = 0;
      for (;;) {
        const { changes } = deleteBatch.run(cutoffMs, DELETE_BATCH);
        deleted += changes;
        if (changes < DELETE_BATCH) return deleted;
        // Let ingestion streams commit between batches.
        await yieldToEventLoop();
      }
    },
  };
}
