import { AlreadyExistsError } from '@slipway/errors';
import { and, desc, eq, lte, sql } from 'drizzle-orm';
import type { FeaturesDatabase } from '../db/open-database.js';
import { featureEvents, latestValues } from '../db/schema.js';
import type {
  AsOfRef,
  EntityRef,
  FeatureEvent,
  OnlineStore,
  RawValue,
  StoredValues,
  WriteOutcome,
} from '../domain/online-store.js';

/**
 * Stored form of a row's values: a JSON array aligned with the view's fields. JSON keeps every
 * finite double exactly (shortest round-trip form); NaN and ±Infinity, which every transform
 * reads as missing, are stored as null.
 */
export function encodeValues(values: readonly RawValue[]): string {
  return JSON.stringify(values.map((v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}

function decodeValues(text: string): RawValue[] {
  return JSON.parse(text) as RawValue[];
}

function describeEvent(e: FeatureEvent): string {
  return `view "${e.view}", entity "${e.entityId}", event time ${new Date(e.eventTimeMs).toISOString()}`;
}

/**
 * The {@link OnlineStore} on SQLite: `latest_values` (one row per view and entity) serves
 * online reads, `feature_events` (append-only, keyed by view, entity and event time) serves
 * point-in-time reads and makes writes idempotent. Both are written in one transaction per
 * batch. Every statement is prepared once.
 */
export function createSqliteOnlineStore(database: FeaturesDatabase): OnlineStore {
  const { db, sqlite } = database;
  const p = {
    view: sql.placeholder('view'),
    entityId: sql.placeholder('entityId'),
    eventTime: sql.placeholder('eventTime'),
    valuesJson: sql.placeholder('valuesJson'),
    writtenAt: sql.placeholder('writtenAt'),
  };
  const insertEvent = db.insert(featureEvents).values(p).onConflictDoNothing().prepare();
  const selectEvent = db
    .select({ valuesJson: featureEvents.valuesJson })
    .from(featureEvents)
    .where(
      and(
        eq(featureEvents.view, p.view),
        eq(featureEvents.entityId, p.entityId),
        eq(featureEvents.eventTime, p.eventTime),
      ),
    )
    .prepare();
  const upsertLatest = db
    .insert(latestValues)
    .values(p)
    .onConflictDoUpdate({
      target: [latestValues.view, latestValues.entityId],
      set: {
        eventTime: sql`excluded.event_time`,
        valuesJson: sql`excluded.values_json`,
        writtenAt: sql`excluded.written_at`,
      },
      // A late event (older than the stored latest) goes to the log only.
      setWhere: sql`excluded.event_time > ${latestValues.eventTime}`,
    })
    .prepare();
  const selectLatest = db
    .select({ eventTime: latestValues.eventTime, valuesJson: latestValues.valuesJson })
    .from(latestValues)
    .where(and(eq(latestValues.view, p.view), eq(latestValues.entityId, p.entityId)))
    .prepare();
  // Many entities of one view in one statement (their ids as a JSON array): a batch of 256
  // entities is one query instead of 256 round trips into SQLite.
  const selectLatestMany = db
    .select({
      entityId: latestValues.entityId,
      eventTime: latestValues.eventTime,
      valuesJson: latestValues.valuesJson,
    })
    .from(latestValues)
    .where(
      and(
        eq(latestValues.view, p.view),
        sql`${latestValues.entityId} IN (SELECT value FROM json_each(${sql.placeholder('entityIds')}))`,
      ),
    )
    .prepare();
  const selectAsOf = db
    .select({ eventTime: featureEvents.eventTime, valuesJson: featureEvents.valuesJson })
    .from(featureEvents)
    .where(
      and(
        eq(featureEvents.view, p.view),
        eq(featureEvents.entityId, p.entityId),
        lte(featureEvents.eventTime, sql.placeholder('asOf')),
      ),
    )
    .orderBy(desc(featureEvents.eventTime))
    .limit(1)
    .prepare();

  const writeBatch = sqlite.transaction((events: readonly FeatureEvent[]): WriteOutcome => {
    let written = 0;
    let duplicates = 0;
    let latestUpdated = 0;
    const writtenAt = Date.now();
    for (const e of events) {
      const row = {
        view: e.view,
        entityId: e.entityId,
        eventTime: e.eventTimeMs,
        valuesJson: encodeValues(e.values),
        writtenAt,
      };
      if (insertEvent.run(row).changes === 0) {
        const existing = selectEvent.get(row);
        if (existing?.valuesJson !== row.valuesJson) {
          throw new AlreadyExistsError(
            `${describeEvent(e)} is already stored with other values (${existing?.valuesJson} vs ${row.valuesJson}); ` +
              'events are immutable: write the correction with a later event time',
          );
        }
        duplicates++;
        continue;
      }
      written++;
      if (upsertLatest.run(row).changes > 0) latestUpdated++;
    }
    return { written, duplicates, latestUpdated };
  });

  return {
    async write(events) {
      return writeBatch.immediate(events);
    },
    async readLatest(refs: readonly EntityRef[]) {
      const out: (StoredValues | undefined)[] = new Array(refs.length);
      if (refs.length <= 2) {
        for (let i = 0; i < refs.length; i++) {
          const ref = refs[i]!;
          const found = selectLatest.get({ view: ref.view, entityId: ref.entityId });
          out[i] =
            found === undefined
              ? undefined
              : { eventTimeMs: found.eventTime, values: decodeValues(found.valuesJson) };
        }
        return out;
      }
      // Positions of each (view, entity) in `refs`; one query per view.
      const byView = new Map<string, Map<string, number[]>>();
      for (let i = 0; i < refs.length; i++) {
        const { view, entityId } = refs[i]!;
        let entities = byView.get(view);
        if (!entities) byView.set(view, (entities = new Map()));
        const positions = entities.get(entityId);
        if (positions) positions.push(i);
        else entities.set(entityId, [i]);
      }
      for (const [view, entities] of byView) {
        const rows = selectLatestMany.all({ view, entityIds: JSON.stringify([...entities.keys()]) });
        for (const row of rows) {
          const stored = { eventTimeMs: row.eventTime, values: decodeValues(row.valuesJson) };
          for (const i of entities.get(row.entityId) ?? []) out[i] = stored;
        }
      }
      return out;
    },
    async readAsOf(refs: readonly AsOfRef[]) {
      const out: (StoredValues | undefined)[] = new Array(refs.length);
      for (let i = 0; i < refs.length; i++) {
        const ref = refs[i]!;
        const found = selectAsOf.get({ view: ref.view, entityId: ref.entityId, asOf: ref.asOfMs });
        out[i] =
          found === undefined
            ? undefined
            : { eventTimeMs: found.eventTime, values: decodeValues(found.valuesJson) };
      }
      return out;
    },
    close() {
      // Nothing to release: the database belongs to whoever opened it and closes it last.
    },
  };
}
