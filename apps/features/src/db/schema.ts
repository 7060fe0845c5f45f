/**
 * The feature service's SQLite schema (drizzle). Migrations in `apps/features/drizzle/` are
 * generated from this file (`npx drizzle-kit generate --config apps/features/drizzle.config.ts`);
 * the triggers that keep feature sets, views and the event log immutable are a hand-written
 * migration next to them, because drizzle-kit does not model triggers.
 *
 * Event times are epoch milliseconds (integers sort and compare exactly); registration times are
 * ISO-8601 strings in UTC. Stored values are a JSON array aligned with the view's fields.
 */
import { sql } from 'drizzle-orm';
import { check, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Fitted feature sets, immutable once registered. */
export const featureSets = sqliteTable(
  'feature_sets',
  {
    name: text('name').notNull(),
    version: integer('version').notNull(),
    contentHash: text('content_hash').notNull(),
    /** The canonical JSON of libs/features `serializeFitted`, exactly as registered. */
    fittedJson: text('fitted_json').notNull(),
    registeredAt: text('registered_at').notNull(),
    registeredBy: text('registered_by').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.name, t.version] }),
    check('feature_sets_version_positive', sql`${t.version} >= 1`),
    check('feature_sets_hash_hex', sql`length(${t.contentHash}) = 64`),
  ],
);

/** Feature views, immutable once registered; `seq` is the registration order. */
export const featureViews = sqliteTable(
  'feature_views',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    name: text('name').notNull().unique(),
    entityKey: text('entity_key').notNull(),
    /** `[{ "name": ..., "type": "number" | "text" }, ...]`. */
    fieldsJson: text('fields_json').notNull(),
    /** 0: values never expire. */
    ttlSeconds: integer('ttl_seconds').notNull(),
    createdAt: text('created_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [check('feature_views_ttl_non_negative', sql`${t.ttlSeconds} >= 0`)],
);

/** The online store: the newest event of every (view, entity). */
export const latestValues = sqliteTable(
  'latest_values',
  {
    view: text('view').notNull(),
    entityId: text('entity_id').notNull(),
    eventTime: integer('event_time').notNull(),
    valuesJson: text('values_json').notNull(),
    writtenAt: integer('written_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.view, t.entityId] })],
);

/**
 * Every event ever written, append-only: the source of point-in-time reads. The primary key is
 * the idempotency key, and its order serves "newest event at or before T" as one index seek.
 */
export const featureEvents = sqliteTable(
  'feature_events',
  {
    view: text('view').notNull(),
    entityId: text('entity_id').notNull(),
    eventTime: integer('event_time').notNull(),
    valuesJson: text('values_json').notNull(),
    writtenAt: integer('written_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.view, t.entityId, t.eventTime] })],
);
