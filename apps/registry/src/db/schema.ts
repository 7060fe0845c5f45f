/**
 * The registry's SQLite schema (drizzle). Migrations in `apps/registry/drizzle/` are generated
 * from this file by drizzle-kit (`npx drizzle-kit generate --config apps/registry/drizzle.config.ts`);
 * the triggers that make versions, history and the audit log immutable live in a hand-written
 * migration next to them, because drizzle-kit does not model triggers.
 *
 * Times are ISO-8601 strings with milliseconds in UTC (`Date.toISOString()`), which sort
 * lexicographically in time order. Contract messages are stored as their proto3 JSON form
 * (ts-proto `toJSON`), which round-trips bigint and Date exactly.
 */
import { sql } from 'drizzle-orm';
import {
  blob,
  check,
  foreignKey,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';

/** One row per model name; created with its first version. */
export const models = sqliteTable('models', {
  name: text('name').primaryKey(),
  createdAt: text('created_at').notNull(),
  /** Last registration, tag or alias change. */
  updatedAt: text('updated_at').notNull(),
});

/** Immutable model versions; only `description` and `tags_json` may change (enforced by triggers). */
export const modelVersions = sqliteTable(
  'model_versions',
  {
    model: text('model')
      .notNull()
      .references(() => models.name),
    version: integer('version').notNull(),
    artifactSha256: text('artifact_sha256').notNull(),
    artifactSize: integer('artifact_size').notNull(),
    /** `registry.ModelSignature` as proto3 JSON. */
    signatureJson: text('signature_json').notNull(),
    /** `registry.Lineage` as proto3 JSON, without `reference_profile` (kept as a blob). */
    lineageJson: text('lineage_json').notNull(),
    referenceProfile: blob('reference_profile', { mode: 'buffer' }).notNull(),
    /** Lineage parent; NULL when none, so the composite foreign key is not checked. */
    parentVersion: integer('parent_version'),
    description: text('description').notNull().default(''),
    /** `{ [key]: value }` as JSON. */
    tagsJson: text('tags_json').notNull().default('{}'),
    createdAt: text('created_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.model, t.version] }),
    foreignKey({ columns: [t.model, t.parentVersion], foreignColumns: [t.model, t.version] }),
    index('model_versions_artifact_sha256').on(t.artifactSha256),
    check('model_versions_version_positive', sql`${t.version} >= 1`),
    check('model_versions_sha256_hex', sql`length(${t.artifactSha256}) = 64`),
  ],
);

/** Named pointers to versions, e.g. `champion`. */
export const aliases = sqliteTable(
  'aliases',
  {
    model: text('model').notNull(),
    alias: text('alias').notNull(),
    version: integer('version').notNull(),
    updatedAt: text('updated_at').notNull(),
    updatedBy: text('updated_by').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.model, t.alias] }),
    foreignKey({
      columns: [t.model, t.version],
      foreignColumns: [modelVersions.model, modelVersions.version],
    }),
  ],
);

/** Append-only, hash-chained audit log; UPDATE and DELETE are refused by triggers. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    /** 1, 2, 3… without gaps; assigned from `audit_head`, not by SQLite. */
    seq: integer('seq').primaryKey(),
    time: text('time').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target').notNull(),
    beforeJson: text('before_json').notNull(),
    afterJson: text('after_json').notNull(),
    reason: text('reason').notNull(),
    traceId: text('trace_id').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_log_target').on(t.target), index('audit_log_action').on(t.action)],
);

/**
 * The audit log's head (a single row, id 1): last seq and its hash, updated in the same
 * transaction as each append, so that removing entries from the end is detectable.
 */
export const auditHead = sqliteTable(
  'audit_head',
  {
    id: integer('id').primaryKey(),
    seq: integer('seq').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [check('audit_head_single_row', sql`${t.id} = 1`)],
);

/**
 * The change feed behind Watch. `revision` is the registry revision: global, monotonically
 * increasing, never reused (AUTOINCREMENT keeps its high-water mark in `sqlite_sequence` even
 * after compaction deletes old rows).
 */
export const changes = sqliteTable(
  'changes',
  {
    revision: integer('revision').primaryKey({ autoIncrement: true }),
    kind: text('kind', { enum: ['deployment', 'endpoint'] }).notNull(),
    /** Deployment name or worker id. */
    key: text('key').notNull(),
    /** The new state as proto3 JSON (`registry.Deployment` / `registry.WorkerEndpoint`); NULL when removed. */
    payloadJson: text('payload_json'),
    time: text('time').notNull(),
  },
  (t) => [check('changes_kind', sql`${t.kind} in ('deployment', 'endpoint')`)],
);

/** Current desired state of each deployment (`registry.Deployment` as proto3 JSON). */
export const deployments = sqliteTable('deployments', {
  name: text('name').primaryKey(),
  revision: integer('revision').notNull(),
  deploymentJson: text('deployment_json').notNull(),
  updatedAt: text('updated_at').notNull(),
  updatedBy: text('updated_by').notNull(),
});

/** Every applied state of every deployment; kept after the deployment is deleted; immutable. */
export const deploymentHistory = sqliteTable(
  'deployment_history',
  {
    name: text('name').notNull(),
    revision: integer('revision').notNull(),
    deploymentJson: text('deployment_json').notNull(),
    updatedAt: text('updated_at').notNull(),
    updatedBy: text('updated_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.name, t.revision] })],
);

/** Live worker endpoints with their leases. */
export const endpoints = sqliteTable(
  'endpoints',
  {
    workerId: text('worker_id').primaryKey(),
    address: text('address').notNull(),
    /** `registry.LoadedVersion[]` as proto3 JSON, sorted by model then version. */
    versionsJson: text('versions_json').notNull(),
    labelsJson: text('labels_json').notNull(),
    leaseExpiresAt: text('lease_expires_at').notNull(),
    registeredAt: text('registered_at').notNull(),
    lastHeartbeatAt: text('last_heartbeat_at').notNull(),
  },
  (t) => [index('endpoints_lease_expires_at').on(t.leaseExpiresAt)],
);

/**
 * Batch schedules. Deleting one stamps `deleted_at` (its runs keep their history); the name is
 * unique among schedules that are not deleted.
 */
export const batchSchedules = sqliteTable(
  'batch_schedules',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    cron: text('cron').notNull(),
    /** `registry.BatchJob` as proto3 JSON; `output` is the template with `{occurrence}`. */
    jobJson: text('job_json').notNull(),
    paused: integer('paused', { mode: 'boolean' }).notNull().default(false),
    /** Occurrences before this time are never run. */
    startAt: text('start_at').notNull(),
    createdAt: text('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    updatedAt: text('updated_at').notNull(),
    deletedAt: text('deleted_at'),
  },
  (t) => [
    uniqueIndex('batch_schedules_live_name')
      .on(t.name)
      .where(sql`${t.deletedAt} IS NULL`),
  ],
);

/**
 * Runs of batch schedules: one row per (schedule, occurrence), enforced by SQLite, so two workers
 * can never both start an occurrence. A row is written when a worker first claims it.
 */
export const batchRuns = sqliteTable(
  'batch_runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    scheduleId: integer('schedule_id')
      .notNull()
      .references(() => batchSchedules.id),
    /** The schedule's name (kept after the schedule is deleted). */
    schedule: text('schedule').notNull(),
    /** ISO time of the occurrence, a whole minute. */
    occurrence: text('occurrence').notNull(),
    status: text('status', {
      enum: ['pending', 'running', 'succeeded', 'failed', 'cancelled'],
    }).notNull(),
    /** `registry.BatchJob` as proto3 JSON, `{occurrence}` resolved. */
    jobJson: text('job_json').notNull(),
    /** The holder, or the last one; '' before the first claim. */
    workerId: text('worker_id').notNull(),
    leaseExpiresAt: text('lease_expires_at'),
    attempts: integer('attempts').notNull(),
    skippedOccurrences: integer('skipped_occurrences').notNull().default(0),
    createdAt: text('created_at').notNull(),
    claimedAt: text('claimed_at').notNull(),
    finishedAt: text('finished_at'),
    rowsRead: integer('rows_read').notNull().default(0),
    rowsScored: integer('rows_scored').notNull().default(0),
    rowsRejected: integer('rows_rejected').notNull().default(0),
    outputSha256: text('output_sha256').notNull().default(''),
    message: text('message').notNull().default(''),
  },
  (t) => [
    uniqueIndex('batch_runs_schedule_occurrence').on(t.scheduleId, t.occurrence),
    index('batch_runs_schedule_name').on(t.schedule, t.occurrence),
    index('batch_runs_status').on(t.status, t.occurrence),
    check(
      'batch_runs_status_known',
      sql`${t.status} in ('pending', 'running', 'succeeded', 'failed', 'cancelled')`,
    ),
  ],
);
