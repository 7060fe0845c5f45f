// Registration, writes and roles over real gRPC with a fresh database per test.
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
} from '@slipway/errors';
import { FeatureStatus, fit, serializeFitted } from '@slipway/features';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  demoRows,
  demoSpec,
  demoViews,
  protoValue,
  startFeatures,
  type RunningFeatures,
} from './testing/fixtures.js';

let running: RunningFeatures;
beforeEach(async () => {
  running = await startFeatures();
});
afterEach(() => running.close());

const fitted = fit(demoSpec, demoRows(100));
const fittedJson = serializeFitted(fitted);
const at = (minutes: number) => new Date(Date.UTC(2024, 4, 1) + minutes * 60_000);

describe('feature sets', () => {
  it('registers name@version with its hash; identical content again is a no-op', async () => {
    const first = await running.deployer.registerFeatureSet({ fittedJson });
    expect(first).toMatchObject({
      created: true,
      featureSet: { name: 'fraud_user', version: 1, contentHash: fitted.contentHash, registeredBy: 'ci' },
    });
    const again = await running.deployer.registerFeatureSet({ fittedJson });
    expect(again.created).toBe(false);
    expect(again.featureSet!.registeredAt).toEqual(first.featureSet!.registeredAt);

    const { featureSet, fittedJson: stored } = await running.anonymous.getFeatureSet({
      name: 'fraud_user',
      version: 1,
    });
    expect(stored).toBe(fittedJson);
    expect(featureSet!.featureNames).toEqual(demoSpec.features.map((f) => f.name));
    const { featureSets } = await running.anonymous.listFeatureSets({ name: '' });
    expect(featureSets.map((s) => `${s.name}@${s.version}`)).toEqual(['fraud_user@1']);
  });

  it('refuses other content under a registered name@version with ALREADY_EXISTS', async () => {
    await running.deployer.registerFeatureSet({ fittedJson });
    const other = serializeFitted(fit(demoSpec, demoRows(100, 3)));
    const failure = running.deployer.registerFeatureSet({ fittedJson: other });
    await expect(failure).rejects.toThrow(AlreadyExistsError);
    await expect(failure).rejects.toThrow(/give the new fit a new version/);
  });

  it('refuses a fitted set whose hash does not match its content, and text that is not one', async () => {
    const tampered = fittedJson.replace('"rowCount":100', '"rowCount":101');
    await expect(running.deployer.registerFeatureSet({ fittedJson: tampered })).rejects.toThrow(
      FailedPreconditionError,
    );
    await expect(running.deployer.registerFeatureSet({ fittedJson: '{"a":1}' })).rejects.toThrow(
      InvalidArgumentError,
    );
  });

  it('answers NOT_FOUND for an unknown set', async () => {
    await expect(running.anonymous.getFeatureSet({ name: 'nope', version: 0 })).rejects.toThrow(
      NotFoundError,
    );
  });
});

describe('feature views', () => {
  it('registers a view once; the identical definition is a no-op and another is ALREADY_EXISTS', async () => {
    const first = await running.deployer.registerFeatureView(demoViews.activity);
    expect(first).toMatchObject({ created: true, view: { name: 'user_activity', entityKey: 'user_id' } });
    expect((await running.deployer.registerFeatureView(demoViews.activity)).created).toBe(false);
    await expect(
      running.deployer.registerFeatureView({ ...demoViews.activity, ttlSeconds: 60 }),
    ).rejects.toThrow(AlreadyExistsError);
    const { views } = await running.anonymous.listFeatureViews({});
    expect(views.map((v) => v.name)).toEqual(['user_activity']);
  });

  it('lists every problem of an invalid view', async () => {
    const failure = running.deployer.registerFeatureView({
      name: '9bad',
      entityKey: '',
      fields: [
        { name: 'a', type: 1 },
        { name: 'a', type: 1 },
      ],
      ttlSeconds: -1,
    });
    await expect(failure).rejects.toThrow(InvalidArgumentError);
    await expect(failure).rejects.toThrow(
      /must start with a letter.*entity_key is required.*listed twice.*ttl_seconds/,
    );
  });
});

describe('WriteFeatures', () => {
  beforeEach(async () => {
    await running.deployer.registerFeatureView(demoViews.activity);
  });

  const row = (minutes: number, balance: number) => ({
    view: 'user_activity',
    entityId: 'u1',
    eventTime: at(minutes),
    values: { balance: protoValue(balance) },
  });

  it('is idempotent by view, entity and event time: a replay writes nothing new', async () => {
    const batch = [row(1, 10), row(2, 20)];
    expect(await running.deployer.writeFeatures({ rows: batch })).toEqual({
      written: 2,
      duplicates: 0,
      latestUpdated: 2,
    });
    expect(await running.deployer.writeFeatures({ rows: batch })).toEqual({
      written: 0,
      duplicates: 2,
      latestUpdated: 0,
    });
    const [message] = await collect(running, 3);
    expect(message!.rows[0]!.views[0]!.values['balance']).toEqual(protoValue(20));
  });

  it('refuses different values under a stored key with ALREADY_EXISTS and writes nothing of the batch', async () => {
    await running.deployer.writeFeatures({ rows: [row(1, 10)] });
    const failure = running.deployer.writeFeatures({ rows: [row(2, 20), row(1, 11)] });
    await expect(failure).rejects.toThrow(AlreadyExistsError);
    await expect(failure).rejects.toThrow(/already stored with other values/);
    const [message] = await collect(running, 3);
    expect(message!.rows[0]!.views[0]!.eventTime).toEqual(at(1));
  });

  it('answers NOT_FOUND for an unknown view, naming the registered ones', async () => {
    const failure = running.deployer.writeFeatures({ rows: [{ ...row(1, 1), view: 'user_activty' }] });
    await expect(failure).rejects.toThrow(NotFoundError);
    await expect(failure).rejects.toThrow(/"user_activty" is not registered.*registered: "user_activity"/);
  });

  it('refuses unknown fields, wrong types and missing event times, writing nothing', async () => {
    const failure = running.deployer.writeFeatures({
      rows: [
        row(1, 1),
        { ...row(2, 2), values: { balanse: protoValue(2) } },
        { ...row(3, 3), values: { merchant: protoValue(3) } },
        { ...row(4, 4), eventTime: undefined },
      ],
    });
    await expect(failure).rejects.toThrow(InvalidArgumentError);
    await expect(failure).rejects.toThrow(
      /rows\[1\]: view "user_activity" has no field "balanse".*rows\[2\]: field "merchant".*holds texts.*rows\[3\]: event_time is required/,
    );
    const [message] = await collect(running, 5);
    expect(message!.rows[0]!.views[0]!.status).toBe(FeatureStatus.MISSING);
  });
});

describe('roles', () => {
  it('needs a deployer token to register or write; reads are open', async () => {
    await expect(running.anonymous.registerFeatureSet({ fittedJson })).rejects.toThrow(UnauthenticatedError);
    await expect(running.reader.registerFeatureSet({ fittedJson })).rejects.toThrow(PermissionDeniedError);
    await expect(running.anonymous.registerFeatureView(demoViews.profile)).rejects.toThrow(
      UnauthenticatedError,
    );
    await expect(running.reader.writeFeatures({ rows: [] })).rejects.toThrow(PermissionDeniedError);
    await expect(running.anonymous.writeFeatures({ rows: [] })).rejects.toThrow(UnauthenticatedError);

    await running.deployer.registerFeatureSet({ fittedJson });
    await expect(running.anonymous.listFeatureSets({ name: '' })).resolves.toBeDefined();
    await expect(running.anonymous.listFeatureViews({})).resolves.toBeDefined();
    await expect(
      running.anonymous.getFeatureVector({
        omitNames: false,
        featureSet: { name: 'fraud_user', version: 1, contentHash: fitted.contentHash },
        entityKeys: { user_id: 'u1' },
        requestValues: {},
      }),
    ).resolves.toMatchObject({ columns: fitted.columns });
  });
});

async function collect(service: RunningFeatures, minutes: number) {
  const out = [];
  for await (const message of service.anonymous.getHistoricalFeatures({
    queries: [{ entityKeys: { user_id: 'u1' }, asOfTime: at(minutes), requestValues: {} }],
    views: ['user_activity'],
    featureSet: undefined,
  })) {
    out.push(message);
  }
  return out;
}
