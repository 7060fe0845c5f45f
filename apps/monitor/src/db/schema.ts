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

/**
 * Delayed labels and KPI events (IngestOutcomes), joined with predictions at query time: by
 * request id (labels, per-request KPIs) or by unit key and deployment (experiment KPIs). The
 * primary key is the idempotency key (sent, or derived from the request id or unit, the KPI and
 * the time).
 */
export const outcomes = sqliteTable(
  'outcomes',
  {
    outcomeId: text('outcome_id').primaryKey(),
    /** '' when the outcome belongs to a unit. */
    requestId: text('request_id').notNull(),
    /** '' when the outcome belongs to a request. */
    unitKey: text('unit_key').notNull(),
    /** Required with a unit key; may be '' for a request's outcome. */
    deployment: text('deployment').notNull(),
    /** The true label; null for a KPI event. */
    label: real('label'),
    /** '' for a bare label. */
    kpi: text('kpi').notNull(),
    value: real('value').notNull(),
    /** When it happened, epoch ms. */
    time: integer('time').notNull(),
  },
  (t) => [
    // The label of a prediction: the newest one per request id.
    index('outcomes_request_id_time').on(t.requestId, t.time),
    index('outcomes_kpi_deployment_unit').on(t.kpi, t.deployment, t.unitKey),
    index('outcomes_time').on(t.time),
  ],
);

/**
 * Traffic per minute and series (deployment, variant, model, version, shadow): request counts by
 * status and a mergeable latency sketch (DDSketch, `@slipway/monitoring`). Updated in the
 * transaction that stores the records, so it always agrees with them; kept longer than the raw
 * records, so health over days merges a few rows per minute instead of scanning records.
 */
export const predictionRollups = sqliteTable(
  'prediction_rollups',
  {
    deployment: text('deployment').notNull(),
    variant: text('variant').notNull(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    shadow: integer('shadow', { mode: 'boolean' }).notNull(),
    /** Start of the minute, epoch ms (a multiple of 60,000). */
    minute: integer('minute').notNull(),
    requests: integer('requests').notNull(),
    /** Requests whose status is not OK. */
    errors: integer('errors').notNull(),
    /** `{ "OK": 118, "UNAVAILABLE": 2 }`. */
    byStatus: text('by_status').notNull(),
    /** `QuantileSketch.serialize()` of the latencies (ms). */
    latency: blob('latency', { mode: 'buffer' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.deployment, t.variant, t.model, t.version, t.shadow, t.minute] }),
    index('prediction_rollups_deployment_minute').on(t.deployment, t.minute),
    index('prediction_rollups_minute').on(t.minute),
  ],
);

/**
 * The arm each unit of an experiment was first assigned to (the earliest prediction wins, in
 * whatever order records arrive). Kept as long as the rollups, so an experiment report survives
 * the retention of raw records.
 */
export const experimentUnits = sqliteTable(
  'experiment_units',
  {
    experiment: text('experiment').notNull(),
    unitKey: text('unit_key').notNull(),
    deployment: text('deployment').notNull(),
    arm: text('arm').notNull(),
    /** Time of the unit's first prediction in the experiment, epoch ms. */
    firstTime: integer('first_time').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.experiment, t.unitKey] }),
    index('experiment_units_first_time').on(t.firstTime),
  ],
);
