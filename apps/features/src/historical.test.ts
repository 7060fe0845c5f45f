// Point-in-time reads over real gRPC: no value with an event time after the as-of time leaks in.
import type { features } from '@slipway/contracts';
import { FeatureStatus, fit, serializeFitted, transformRow, type FeatureSetSpec } from '@slipway/features';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bits, demoViews, protoValue, startFeatures, type RunningFeatures } from './testing/fixtures.js';

let running: RunningFeatures;
beforeEach(async () => {
  running = await startFeatures();
});
afterEach(() => running.close());

const T0 = Date.UTC(2024, 4, 1, 12);
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

const balanceAt = (minutes: number, balance: number, entityId = 'u1'): features.FeatureRow => ({
  view: 'user_activity',
  entityId,
  eventTime: at(minutes),
  values: { balance: protoValue(balance), merchant: protoValue(`m${balance}`) },
});

async function historical(request: features.GetHistoricalFeaturesRequest) {
  const messages: features.GetHistoricalFeaturesResponse[] = [];
  for await (const message of running.anonymous.getHistoricalFeatures(request)) messages.push(message);
  return messages;
}

const spec: FeatureSetSpec = {
  name: 'balances',
  version: 1,
  entityKeys: ['user_id'],
  features: [
    {
      name: 'balance',
      source: { field: 'balance' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'constant', value: -1 }, { type: 'standardize' }],
    },
  ],
};

describe('GetHistoricalFeatures', () => {
  beforeEach(async () => {
    await running.deployer.registerFeatureView(demoViews.activity);
    const first = await running.deployer.writeFeatures({ rows: [balanceAt(10, 10), balanceAt(30, 30)] });
    expect(first).toEqual({ written: 2, duplicates: 0, latestUpdated: 2 });
    // Inserted after the others but with an earlier event time: a late event.
    const late = await running.deployer.writeFeatures({ rows: [balanceAt(20, 20)] });
    expect(late).toEqual({ written: 1, duplicates: 0, latestUpdated: 0 });
    // Written after the as-of times below.
    await running.deployer.writeFeatures({ rows: [balanceAt(40, 40)] });
  });

  it('returns, for each as-of time, the newest event at or before it and nothing later', async () => {
    const asOfs = [5, 15, 25, 30, 35, 45];
    const [message, ...more] = await historical({
      queries: asOfs.map((m) => ({ entityKeys: { user_id: 'u1' }, asOfTime: at(m), requestValues: {} })),
      views: ['user_activity'],
      featureSet: undefined,
    });
    expect(more).toEqual([]);
    expect(message!.offset).toBe(0);
    const seen = message!.rows.map((row) => {
      const view = row.views[0]!;
      const balance = view.values['balance']?.kind;
      return {
        status: view.status,
        eventTime: view.eventTime?.getTime(),
        balance: balance?.$case === 'number' ? balance.number : undefined,
      };
    });
    const { MISSING, PRESENT } = FeatureStatus;
    expect(seen).toEqual([
      { status: MISSING, eventTime: undefined, balance: undefined },
      { status: PRESENT, eventTime: at(10).getTime(), balance: 10 },
      { status: PRESENT, eventTime: at(20).getTime(), balance: 20 },
      { status: PRESENT, eventTime: at(30).getTime(), balance: 30 },
      { status: PRESENT, eventTime: at(30).getTime(), balance: 30 },
      { status: PRESENT, eventTime: at(40).getTime(), balance: 40 },
    ]);
    for (const [i, m] of asOfs.entries()) {
      for (const view of message!.rows[i]!.views) {
        if (view.eventTime) expect(view.eventTime.getTime()).toBeLessThanOrEqual(at(m).getTime());
      }
    }
  });

  it('transforms each row as of its time with the feature set, as serving would have', async () => {
    const fitted = fit(spec, [{ balance: 0 }, { balance: 100 }]);
    await running.deployer.registerFeatureSet({ fittedJson: serializeFitted(fitted) });
    const ref = { name: 'balances', version: 1, contentHash: fitted.contentHash };
    const [message] = await historical({
      queries: [5, 25, 35].map((m) => ({
        entityKeys: { user_id: 'u1' },
        asOfTime: at(m),
        requestValues: {},
      })),
      views: [],
      featureSet: ref,
    });
    expect(message!.columns).toEqual(fitted.columns);
    expect(message!.rows.map((r) => bits(r.vector))).toEqual([
      bits(transformRow(fitted, {})),
      bits(transformRow(fitted, { balance: 20 })),
      bits(transformRow(fitted, { balance: 30 })),
    ]);
    expect(message!.rows.map((r) => r.statuses)).toEqual([
      [FeatureStatus.DEFAULTED],
      [FeatureStatus.PRESENT],
      [FeatureStatus.PRESENT],
    ]);
    // Serving reads the latest value, 40, which the as-of reads above never saw.
    const served = await running.anonymous.getFeatureVector({
      omitNames: false,
      featureSet: ref,
      entityKeys: { user_id: 'u1' },
      requestValues: {},
    });
    expect(bits(served.vector)).toEqual(bits(transformRow(fitted, { balance: 40 })));
  });

  it("applies the view's TTL at the as-of time and leaves expired values out", async () => {
    await running.deployer.registerFeatureView({ ...demoViews.profile, ttlSeconds: 600 });
    await running.deployer.writeFeatures({
      rows: [{ view: 'user_profile', entityId: 'u1', eventTime: at(0), values: { limit: protoValue(5) } }],
    });
    const [message] = await historical({
      queries: [5, 11].map((m) => ({ entityKeys: { user_id: 'u1' }, asOfTime: at(m), requestValues: {} })),
      views: ['user_profile'],
      featureSet: undefined,
    });
    expect(message!.rows.map((r) => r.views[0]!.status)).toEqual([
      FeatureStatus.PRESENT,
      FeatureStatus.EXPIRED,
    ]);
    expect(message!.rows[1]!.views[0]).toMatchObject({ eventTime: at(0), values: {} });
  });

  it('streams many queries in request order', async () => {
    const queries = Array.from({ length: 1200 }, (_, i) => ({
      entityKeys: { user_id: i % 2 === 0 ? 'u1' : 'u2' },
      asOfTime: at(i % 50),
      requestValues: {},
    }));
    const messages = await historical({ queries, views: ['user_activity'], featureSet: undefined });
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.map((m) => m.offset)).toEqual(
      messages.map((_, i) => messages.slice(0, i).reduce((n, m) => n + m.rows.length, 0)),
    );
    const rows = messages.flatMap((m) => m.rows);
    expect(rows).toHaveLength(1200);
    const balances = rows.map((r) => {
      const kind = r.views[0]!.values['balance']?.kind;
      return kind?.$case === 'number' ? kind.number : null;
    });
    const expected = queries.map(({ entityKeys, asOfTime }) => {
      if (entityKeys.user_id === 'u2') return null;
      const m = (asOfTime.getTime() - T0) / 60_000;
      return m >= 40 ? 40 : m >= 30 ? 30 : m >= 20 ? 20 : m >= 10 ? 10 : null;
    });
    expect(balances).toEqual(expected);
  });

  it('refuses a request without views or feature set, an unknown view, or a query without as-of time', async () => {
    const query = { entityKeys: { user_id: 'u1' }, asOfTime: at(1), requestValues: {} };
    await expect(historical({ queries: [query], views: [], featureSet: undefined })).rejects.toThrow(
      /name the views to read, a feature_set, or both/,
    );
    await expect(historical({ queries: [query], views: ['nope'], featureSet: undefined })).rejects.toThrow(
      /feature view "nope" is not registered/,
    );
    await expect(
      historical({
        queries: [{ ...query, asOfTime: undefined }],
        views: ['user_activity'],
        featureSet: undefined,
      }),
    ).rejects.toThrow(/queries\[0\]: as_of_time is required/);
  });
});
