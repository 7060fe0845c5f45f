// The SQLite online store against its contract, on a fresh database file per test.
import path from 'node:path';
import { AlreadyExistsError } from '@slipway/errors';
import { createTempDir } from '@slipway/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type FeaturesDatabase } from '../db/open-database.js';
import type { FeatureEvent, OnlineStore } from '../domain/online-store.js';
import { createSqliteOnlineStore } from './sqlite-online-store.js';

let database: FeaturesDatabase;
let store: OnlineStore;
beforeEach(async () => {
  const dir = await createTempDir('features-store-');
  database = openDatabase({ file: path.join(dir.path, 'nested', 'features.db') });
  store = createSqliteOnlineStore(database);
});
afterEach(() => {
  store.close();
  database.close();
});

const event = (eventTimeMs: number, values: FeatureEvent['values'], entityId = 'u1'): FeatureEvent => ({
  view: 'v',
  entityId,
  eventTimeMs,
  values,
});

describe('createSqliteOnlineStore', () => {
  it('opens with WAL and the migrations applied', () => {
    expect(database.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = database.sqlite
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual(
      expect.arrayContaining(['feature_events', 'latest_values', 'feature_sets', 'feature_views']),
    );
  });

  it('keeps the newest event as the latest value, whatever order events arrive in', async () => {
    expect(await store.write([event(30, [3, 'c'])])).toEqual({ written: 1, duplicates: 0, latestUpdated: 1 });
    expect(await store.write([event(10, [1, 'a']), event(20, [2, null])])).toEqual({
      written: 2,
      duplicates: 0,
      latestUpdated: 0,
    });
    expect(
      await store.readLatest([
        { view: 'v', entityId: 'u1' },
        { view: 'v', entityId: 'u2' },
      ]),
    ).toEqual([{ eventTimeMs: 30, values: [3, 'c'] }, undefined]);
  });

  it('reads many entities of several views at once, in request order, repeats and unknowns included', async () => {
    const events: FeatureEvent[] = [];
    for (let i = 0; i < 300; i++) events.push(event(100 + i, [i], `u${i}`));
    for (let i = 0; i < 50; i++)
      events.push({ view: 'w', entityId: `u${i}`, eventTimeMs: 5, values: [`w${i}`] });
    await store.write(events);
    const refs = [
      ...Array.from({ length: 300 }, (_, i) => ({ view: 'v', entityId: `u${299 - i}` })),
      { view: 'v', entityId: 'u7' },
      { view: 'v', entityId: 'nobody' },
      { view: 'w', entityId: 'u3' },
      { view: 'w', entityId: 'u60' },
    ];
    const many = await store.readLatest(refs);
    // The same answers one entity at a time.
    const one = await Promise.all(refs.map(async (r) => (await store.readLatest([r]))[0]));
    expect(many).toEqual(one);
    expect(many[0]).toEqual({ eventTimeMs: 399, values: [299] });
    expect(many[300]).toEqual({ eventTimeMs: 107, values: [7] });
    expect(many[301]).toBeUndefined();
    expect(many[302]).toEqual({ eventTimeMs: 5, values: ['w3'] });
    expect(many[303]).toBeUndefined();
  });

  it('reads the newest event at or before a time', async () => {
    await store.write([event(10, [1]), event(30, [3]), event(20, [2]), event(15, [9], 'u2')]);
    const asOf = (asOfMs: number, entityId = 'u1') => ({ view: 'v', entityId, asOfMs });
    expect(await store.readAsOf([asOf(9), asOf(10), asOf(29), asOf(1e12), asOf(20, 'u2')])).toEqual([
      undefined,
      { eventTimeMs: 10, values: [1] },
      { eventTimeMs: 20, values: [2] },
      { eventTimeMs: 30, values: [3] },
      { eventTimeMs: 15, values: [9] },
    ]);
  });

  it('counts identical events as duplicates and refuses changed ones atomically', async () => {
    await store.write([event(10, [1.5, 'x'])]);
    expect(await store.write([event(10, [1.5, 'x']), event(11, [2, 'y'])])).toEqual({
      written: 1,
      duplicates: 1,
      latestUpdated: 1,
    });
    await expect(store.write([event(12, [3, 'z']), event(10, [1.25, 'x'])])).rejects.toThrow(
      AlreadyExistsError,
    );
    expect(await store.readLatest([{ view: 'v', entityId: 'u1' }])).toEqual([
      { eventTimeMs: 11, values: [2, 'y'] },
    ]);
    expect(await store.readAsOf([{ view: 'v', entityId: 'u1', asOfMs: 12 }])).toEqual([
      { eventTimeMs: 11, values: [2, 'y'] },
    ]);
  });

  it('round-trips every finite double exactly and stores non-finite numbers as null', async () => {
    const values = [0.1 + 0.2, -1e-310, Number.MAX_VALUE, 2 ** 53 + 2, NaN, Infinity, 'ünïcode'];
    await store.write([event(1, values)]);
    const [read] = await store.readLatest([{ view: 'v', entityId: 'u1' }]);
    expect(read!.values).toEqual([0.1 + 0.2, -1e-310, Number.MAX_VALUE, 2 ** 53 + 2, null, null, 'ünïcode']);
  });

  it('keeps the event log append-only', async () => {
    await store.write([event(1, [1])]);
    expect(() => database.sqlite.prepare('DELETE FROM feature_events').run()).toThrow(/append-only/);
    expect(() => database.sqlite.prepare('UPDATE feature_events SET values_json = ?').run('[2]')).toThrow(
      /append-only/,
    );
  });
});
