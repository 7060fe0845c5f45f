/**
 * The monitor's SQLite schema (drizzle). Migrations in `apps/monitor/drizzle/` are generated from
 * this file (`npx drizzle-kit generate --config apps/monitor/drizzle.config.ts`, from the repo
 * root).
 *
 * Times are epoch milliseconds (integers sort and compare exactly). Vectors are little-endian
 * BLOBs: features as float32 (the proto's `repeated float`), outputs as float64 (`repeated
 * double`), so every value reads back bit for bit and a 1,000-feature record costs 4 KB, not the
 * ~12 KB of JSON text.
 */
import { blob, index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * One prediction per (request id, variant): the primary key is the idempotency key, so a
 * replayed record is a duplicate, and a shadow prediction (same request id, other variant) is a
 * record of its own.
 */
export const predictionRecords = sqliteTable(
  'prediction_records',
  {
    requestId: text('request_id').notNull(),
    variant: text('variant').notNull(),
    deployment: text('deployment').notNull(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    /** float32 little-endian; empty when the request failed before its input was built. */
    features: blob('features', { mode: 'buffer' }).notNull(),
    /** float64 little-endian. */
    outputs: blob('outputs', { mode: 'buffer' }).notNull(),
    latencyMs: real('latency_ms').notNull(),
    /** gRPC status code name, `OK` on success. */
    status: text('status').notNull(),
    /** Prediction time, epoch ms. */
    time: integer('time').notNull(),
    experiment: text('experiment').notNull(),
    experimentArm: text('experiment_arm').notNull(),
    unitKey: text('unit_key').notNull(),
    /** `predict`, `infer`, `batch` or `stream`. */
    source: text('source').notNull(),
    shadow: integer('shadow', { mode: 'boolean' }).notNull(),
    featureSetHash: text('feature_set_hash').notNull(),
    /** `{ "user_id": "u42", ... }`. */
    entityKeys: text('entity_keys').notNull(),
    error: text('error').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.requestId, t.variant] }),
    index('prediction_records_deployment_time').on(t.deployment, t.time),
    index('prediction_records_deployment_variant_time').on(t.deployment, t.variant, t.time),
    // Retention deletes by time across every deployment; without it each sweep scans the table.
    index('prediction_records_time').on(t.time),
  ],
);
