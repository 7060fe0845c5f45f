// The serving path over real gRPC: vectors bit-identical to training, statuses, TTLs, errors.
import type { features } from '@slipway/contracts';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@slipway/errors';
import {
  fit,
  FeatureStatus,
  serializeFitted,
  transform,
  transformRow,
  type FeatureSetSpec,
  type FittedFeatureSet,
} from '@slipway/features';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bits,
  demoRows,
  demoSpec,
  demoViews,
  demoWriteRows,
  protoValue,
  startFeatures,
  type RunningFeatures,
} from './testing/fixtures.js';

let running: RunningFeatures;
beforeEach(async () => {
  running = await startFeatures();
});
afterEach(() => running.close());

async function setUp(spec: FeatureSetSpec, rows: Parameters<typeof fit>[1]): Promise<FittedFeatureSet> {
  const fitted = fit(spec, rows);
  for (const view of Object.values(demoViews)) await running.deployer.registerFeatureView(view);
  await running.deployer.registerFeatureSet({ fittedJson: serializeFitted(fitted) });
  return fitted;
}

const refOf = (fitted: FittedFeatureSet): features.FeatureSetRef => ({
  name: fitted.spec.name,
  version: fitted.spec.version,
  contentHash: fitted.contentHash,
});

const requestValuesOf = (row: Record<string, unknown>) => ({
  score: protoValue(row['score']),
  now_ts: protoValue(row['now_ts']),
});

describe('training-serving skew', () => {
  it('serves every one of 1,000 entities the bits training built from the same raw values', async () => {
    const rows = demoRows(1000);
    const fitted = await setUp(demoSpec, rows);
    const training = transform(fitted, rows);
    const width = training.columns.length;

    const writes = rows.flatMap((row) => demoWriteRows(row, new Date(row['ts'] as number)));
    for (let i = 0; i < writes.length; i += 500) {
      await running.deployer.writeFeatures({ rows: writes.slice(i, i + 500) });
    }

    const mismatches: string[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const served = await running.anonymous.getFeatureVector({
        omitNames: false,
        featureSet: refOf(fitted),
        entityKeys: { user_id: row['user_id'] as string },
        requestValues: requestValuesOf(row),
      });
      const expected = training.matrix.subarray(i * width, (i + 1) * width);
      const expectedStatuses = Array.from(
        training.statuses.subarray(i * fitted.features.length, (i + 1) * fitted.features.length),
      );
      if (
        bits(served.vector).join() !== bits(expected).join() ||
        served.statuses.join() !== expectedStatuses.join()
      ) {
        mismatches.push(`${row['user_id']}: ${served.vector.join()} vs ${Array.from(expected).join()}`);
      }
      if (i === 0) {
        expect(served.columns).toEqual(training.columns);
        expect(served.featureNames).toEqual(training.features);
      }
    }
    expect(mismatches).toEqual([]);
    // The data exercises the missing-value paths, not only present values.
    expect(training.statuses).toContain(FeatureStatus.DEFAULTED);

    const batch = await running.anonymous.getFeatureVectors({
      featureSet: refOf(fitted),
      entities: rows.map((row) => ({
        entityKeys: { user_id: row['user_id'] as string },
        requestValues: requestValuesOf(row),
      })),
    });
    expect(bits(batch.matrix)).toEqual(bits(training.matrix));
    expect(batch.statuses).toEqual(Array.from(training.statuses));
    expect(batch.columns).toEqual(training.columns);
  });
});

describe('statuses', () => {
  it('reports an unknown entity MISSING, or DEFAULTED where the feature imputes', async () => {
    const fitted = await setUp(demoSpec, demoRows(200));
    const served = await running.anonymous.getFeatureVector({
      omitNames: false,
      featureSet: refOf(fitted),
      entityKeys: { user_id: 'nobody' },
      requestValues: {},
    });
    const status = Object.fromEntries(served.featureNames.map((f, i) => [f, served.statuses[i]]));
    const { DEFAULTED, MISSING } = FeatureStatus;
    expect(status).toEqual({
      amount_log: DEFAULTED,
      amount_q: MISSING,
      balance: DEFAULTED,
      spend_ratio: DEFAULTED,
      merchant: DEFAULTED,
      country: MISSING,
      device: MISSING,
      hour: MISSING,
      age: MISSING,
      score: DEFAULTED,
    });
    expect(bits(served.vector)).toEqual(bits(transformRow(fitted, { user_id: 'nobody' })));
    expect(served.snapshotTime).toBeInstanceOf(Date);

    const lean = await running.anonymous.getFeatureVector({
      featureSet: refOf(fitted),
      entityKeys: { user_id: 'nobody' },
      requestValues: {},
      omitNames: true,
    });
    expect(lean).toMatchObject({
      vector: served.vector,
      statuses: served.statuses,
      columns: [],
      featureNames: [],
    });
  });

  it('treats a value past its view TTL as missing and reports its features EXPIRED', async () => {
    const spec: FeatureSetSpec = {
      name: 'ttl',
      version: 1,
      entityKeys: ['user_id'],
      features: [
        {
          name: 'balance',
          source: { field: 'balance' },
          kind: 'numeric',
          transforms: [{ type: 'impute', strategy: 'constant', value: -1 }],
        },
        { name: 'limit', source: { field: 'limit' }, kind: 'numeric', transforms: [] },
      ],
    };
    const fitted = fit(spec, [{ balance: 1, limit: 2 }]);
    await running.deployer.registerFeatureView({ ...demoViews.activity, ttlSeconds: 3600 });
    await running.deployer.registerFeatureView(demoViews.profile);
    await running.deployer.registerFeatureSet({ fittedJson: serializeFitted(fitted) });
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
    await running.deployer.writeFeatures({
      rows: [
        {
          view: 'user_activity',
          entityId: 'stale',
          eventTime: hoursAgo(2),
          values: { balance: protoValue(50) },
        },
        {
          view: 'user_activity',
          entityId: 'fresh',
          eventTime: hoursAgo(0.5),
          values: { balance: protoValue(70) },
        },
        // The profile view has no TTL: a year-old limit is still fresh.
        {
          view: 'user_profile',
          entityId: 'stale',
          eventTime: hoursAgo(24 * 365),
          values: { limit: protoValue(9) },
        },
      ],
    });
    const { EXPIRED, PRESENT, MISSING } = FeatureStatus;
    const read = (entity: string) =>
      running.anonymous.getFeatureVector({
        omitNames: false,
        featureSet: refOf(fitted),
        entityKeys: { user_id: entity },
        requestValues: {},
      });

    const stale = await read('stale');
    expect(stale.statuses).toEqual([EXPIRED, PRESENT]);
    // The imputed fill, never the stored 50.
    expect(stale.vector).toEqual([-1, 9]);
    const fresh = await read('fresh');
    expect(fresh.statuses).toEqual([PRESENT, MISSING]);
    expect(fresh.vector).toEqual([70, 0]);
  });

  it('expires only the features whose own ttlSeconds passed, even when they share a field', async () => {
    const spec: FeatureSetSpec = {
      name: 'feature_ttl',
      version: 1,
      entityKeys: ['user_id'],
      features: [
        { name: 'balance_raw', source: { field: 'balance' }, kind: 'numeric', transforms: [] },
        {
          name: 'balance_recent',
          source: { field: 'balance' },
          kind: 'numeric',
          transforms: [{ type: 'impute', strategy: 'constant', value: -5 }],
          ttlSeconds: 60,
        },
      ],
    };
    const fitted = await setUp(spec, [{ balance: 1 }]);
    await running.deployer.writeFeatures({
      rows: [
        {
          view: 'user_activity',
          entityId: 'u1',
          eventTime: new Date(Date.now() - 600_000),
          values: { balance: protoValue(42) },
        },
      ],
    });
    const served = await running.anonymous.getFeatureVector({
      omitNames: false,
      featureSet: refOf(fitted),
      entityKeys: { user_id: 'u1' },
      requestValues: {},
    });
    const { EXPIRED, PRESENT } = FeatureStatus;
    expect(served.statuses).toEqual([PRESENT, EXPIRED]);
    expect(served.vector).toEqual([42, -5]);
  });
});

describe('feature set resolution', () => {
  it('answers NOT_FOUND for an unknown set or version, naming the latest version', async () => {
    const fitted = await setUp(demoSpec, demoRows(50));
    const call = (ref: features.FeatureSetRef) =>
      running.anonymous.getFeatureVector({
        omitNames: false,
        featureSet: ref,
        entityKeys: { user_id: 'u1' },
        requestValues: {},
      });
    await expect(call({ ...refOf(fitted), name: 'nope' })).rejects.toThrow(NotFoundError);
    await expect(call({ ...refOf(fitted), name: 'nope' })).rejects.toThrow(/"nope" is not registered/);
    await expect(call({ ...refOf(fitted), version: 7 })).rejects.toThrow(/has no version 7 \(latest is 1\)/);
  });

  it('refuses a content hash mismatch with FAILED_PRECONDITION naming both hashes', async () => {
    const fitted = await setUp(demoSpec, demoRows(50));
    const other = fit(demoSpec, demoRows(60, 99));
    const failure = running.anonymous.getFeatureVector({
      omitNames: false,
      featureSet: refOf(other),
      entityKeys: { user_id: 'u1' },
      requestValues: {},
    });
    await expect(failure).rejects.toThrow(FailedPreconditionError);
    await expect(failure).rejects.toThrow(new RegExp(`${fitted.contentHash}.*${other.contentHash}`));
  });

  it('needs the entity keys of the views it reads and a content hash', async () => {
    const fitted = await setUp(demoSpec, demoRows(50));
    await expect(
      running.anonymous.getFeatureVector({
        omitNames: false,
        featureSet: refOf(fitted),
        entityKeys: {},
        requestValues: {},
      }),
    ).rejects.toThrow(/entity key "user_id" is missing/);
    await expect(
      running.anonymous.getFeatureVector({
        omitNames: false,
        featureSet: { ...refOf(fitted), contentHash: '' },
        entityKeys: { user_id: 'u1' },
        requestValues: {},
      }),
    ).rejects.toThrow(InvalidArgumentError);
  });

  it('describes where each field comes from', async () => {
    const fitted = await setUp(demoSpec, demoRows(50));
    const { featureSet } = await running.anonymous.getFeatureSet({ name: 'fraud_user', version: 0 });
    expect(featureSet).toMatchObject({
      name: 'fraud_user',
      version: 1,
      contentHash: fitted.contentHash,
      entityKeys: ['user_id'],
      columns: fitted.columns,
      registeredBy: 'ci',
      fieldViews: {
        amount: 'user_activity',
        balance: 'user_activity',
        merchant: 'user_activity',
        ts: 'user_activity',
        limit: 'user_profile',
        country: 'user_profile',
        device: 'user_profile',
      },
      unresolvedFields: ['now_ts', 'score'],
    });
  });
});
