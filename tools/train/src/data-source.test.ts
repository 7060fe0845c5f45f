import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FailedPreconditionError, InvalidArgumentError } from '@slipway/errors';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { inferFeatureSetSpec } from './auto-spec.js';
import {
  createCsvDataSource,
  createHistoricalDataSource,
  dataSnapshot,
  type HistoricalFeatureReader,
} from './data-source.js';
import { stratifiedSplit, timeSplit } from './split.js';

async function csvFile(text: string): Promise<string> {
  const dir = await createTempDir('train-csv-');
  const file = path.join(dir.path, 'data.csv');
  await writeFile(file, text);
  return file;
}

describe('CSV data source', () => {
  it('labels rows by the positive value and hashes content, not formatting', async () => {
    const plain = await csvFile('x,kind,y\n1,a,bad\n2,b,good\n,a,bad\n');
    const quoted = await csvFile('"x","kind","y"\r\n"1","a","bad"\r\n2,"b",good\r\n"",a,bad');
    const a = await createCsvDataSource({ file: plain, target: 'y', positive: 'bad' }).load();
    const b = await createCsvDataSource({ file: quoted, target: 'y', positive: 'bad' }).load();
    expect(Array.from(a.labels)).toEqual([1, 0, 1]);
    expect(a.rows[2]).toEqual({ x: '', kind: 'a', y: 'bad' });
    expect(dataSnapshot(a).sha256).toBe(dataSnapshot(b).sha256);
    expect(dataSnapshot(a)).toMatchObject({ rowCount: 3, location: plain });
    expect(dataSnapshot(a).startTime).toBeUndefined();
    const changed = await createCsvDataSource({
      file: await csvFile('x,kind,y\n1,a,bad\n2,b,good\n3,a,bad\n'),
      target: 'y',
      positive: 'bad',
    }).load();
    expect(dataSnapshot(changed).sha256).not.toBe(dataSnapshot(a).sha256);
  });

  it('records the time range of a time column', async () => {
    const file = await csvFile(
      't,x,y\n2026-01-02T00:00:00Z,1,1\n2026-01-01T00:00:00Z,2,0\n1767484800000,3,1\n',
    );
    const data = await createCsvDataSource({ file, target: 'y', positive: '1', timeColumn: 't' }).load();
    expect(dataSnapshot(data)).toMatchObject({
      startTime: new Date('2026-01-01T00:00:00Z'),
      endTime: new Date('2026-01-04T00:00:00Z'),
    });
  });

  it('names the column and the fix when the target, positive value or time is wrong', async () => {
    const file = await csvFile('x,y\n1,a\n2,b\n');
    await expect(createCsvDataSource({ file, target: 'z', positive: 'a' }).load()).rejects.toThrow(
      /no column "z" \(--target\); columns are x, y/,
    );
    await expect(createCsvDataSource({ file, target: 'y', positive: 'c' }).load()).rejects.toThrow(
      /holds a, b; --positive must be one of them/,
    );
    await expect(
      createCsvDataSource({ file, target: 'y', positive: 'a', timeColumn: 'x' }).load(),
    ).resolves.toBeDefined();
    const local = await csvFile('t,y\n2026-01-01T10:00:00,a\n2026-01-01,b\n');
    await expect(
      createCsvDataSource({ file: local, target: 'y', positive: 'a', timeColumn: 't' }).load(),
    ).rejects.toThrow(InvalidArgumentError);
  });
});

describe('historical data source (the feature-service seam)', () => {
  it('merges point-in-time rows with entity keys, request values and as-of times', async () => {
    const requests: unknown[] = [];
    const reader: HistoricalFeatureReader = {
      async getHistoricalRows(request) {
        requests.push(request);
        return request.queries.map((q) => ({ txCount24h: q.entityKeys['userId'] === 'u1' ? 3 : 0 }));
      },
    };
    const source = createHistoricalDataSource({
      reader,
      views: ['user_activity'],
      examples: [
        {
          entityKeys: { userId: 'u1' },
          asOfTime: new Date('2026-01-02T00:00:00Z'),
          label: 1,
          requestValues: { amount: 90 },
        },
        { entityKeys: { userId: 'u2' }, asOfTime: new Date('2026-01-01T00:00:00Z'), label: 0 },
      ],
    });
    const data = await source.load();
    expect(data.rows[0]).toEqual({
      txCount24h: 3,
      amount: 90,
      userId: 'u1',
      asOfTime: '2026-01-02T00:00:00.000Z',
      label: 1,
    });
    expect(Array.from(data.labels)).toEqual([1, 0]);
    expect(data.location).toBe('features:views=user_activity');
    expect(Array.from(data.time!.epochMs)).toEqual([
      Date.parse('2026-01-02T00:00:00Z'),
      Date.parse('2026-01-01T00:00:00Z'),
    ]);
    // Labels stay with the trainer; the reader sees only the lookups.
    expect(requests).toEqual([
      {
        views: ['user_activity'],
        queries: [
          {
            entityKeys: { userId: 'u1' },
            asOfTime: new Date('2026-01-02T00:00:00Z'),
            requestValues: { amount: 90 },
          },
          { entityKeys: { userId: 'u2' }, asOfTime: new Date('2026-01-01T00:00:00Z') },
        ],
      },
    ]);
  });

  it('refuses a reader that does not answer one row per query', async () => {
    const source = createHistoricalDataSource({
      reader: { getHistoricalRows: async () => [] },
      views: ['v'],
      examples: [{ entityKeys: { id: 'a' }, asOfTime: new Date(0), label: 0 }],
    });
    await expect(source.load()).rejects.toThrow(FailedPreconditionError);
  });
});

describe('splits', () => {
  it('time split: every training row is strictly earlier than every holdout row, ties stay together', () => {
    const times = Float64Array.from([5, 1, 3, 3, 3, 2, 4, 6, 3, 0]);
    const split = timeSplit(times, 0.5);
    const latestTrain = Math.max(...Array.from(split.train, (i) => times[i]!));
    const earliestTest = Math.min(...Array.from(split.test, (i) => times[i]!));
    expect(latestTrain).toBeLessThan(earliestTest);
    expect(split.train.length + split.test.length).toBe(10);
    expect(split.cutoff!.getTime()).toBe(earliestTest);
  });

  it('stratified split keeps the class balance and is a function of the seed', () => {
    const labels = Uint8Array.from({ length: 1_000 }, (_, i) => (i % 10 < 3 ? 1 : 0));
    const split = stratifiedSplit(labels, 0.2, 42);
    expect(split.test).toHaveLength(200);
    expect(Array.from(split.test).filter((i) => labels[i] === 1)).toHaveLength(60);
    expect(Array.from(stratifiedSplit(labels, 0.2, 42).test)).toEqual(Array.from(split.test));
    expect(Array.from(stratifiedSplit(labels, 0.2, 43).test)).not.toEqual(Array.from(split.test));
    expect(new Set([...split.train, ...split.test]).size).toBe(1_000);
  });
});

describe('automatic feature-set spec', () => {
  it('standardizes numeric columns, one-hots the rest, and excludes the target and drops', () => {
    const rows = [
      { 'amount/eur': '10', code: 'A1', zip: '1010', y: '1', leak: '1', empty: '' },
      { 'amount/eur': 'NA', code: 'A2', zip: '2020', y: '0', leak: '0', empty: '' },
      { 'amount/eur': '30', code: 'A1', zip: '1010', y: '1', leak: '1', empty: '' },
    ];
    const { spec, skipped } = inferFeatureSetSpec(rows, Object.keys(rows[0]!), {
      name: '1-data set',
      exclude: ['y', 'leak'],
      categorical: ['zip'],
      minFrequency: 1,
    });
    expect(skipped).toEqual(['empty']);
    expect(spec.name).toBe('f_1-data_set');
    expect(spec.features.map((f) => [f.name, f.kind, f.transforms.map((t) => t.type).join('>')])).toEqual([
      ['amount_eur', 'numeric', 'impute>standardize'],
      ['code', 'categorical', 'one-hot'],
      ['zip', 'categorical', 'one-hot'],
    ]);
    expect(spec.features[0]!.source).toEqual({ field: 'amount/eur' });
    expect(() => inferFeatureSetSpec(rows, Object.keys(rows[0]!), { name: 'x', exclude: ['nope'] })).toThrow(
      /no field "nope"/,
    );
  });
});
