// `slipway train demo --features` against real feature-service and registry processes: training
// rows come from point-in-time retrieval and equal the generator's, and serving the registered
// feature set gives the vectors training computes offline, bit for bit.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { features, registry } from '@slipway/contracts';
import { canonicalJson, fit, parseFitted, transformRow } from '@slipway/features';
import { createClient } from '@slipway/service-kit';
import { createTempDir, ensureBuilt, repoRoot, startApp, useAppHarness } from '@slipway/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTrainCli } from './cli.js';
import { createDemoDataSource, createHistoricalDataSource, dataSnapshot } from './data-source.js';
import { generateTransactions } from './demo-data.js';
import { DEMO_FEATURE_SET_SPEC } from './demo-feature-set.js';
import { DEMO_FEATURE_VIEWS, demoExamples, type DemoLabel } from './demo-features.js';
import { createFeatureServiceClient, toRawValue } from './feature-client.js';
import { timeSplit } from './split.js';

useAppHarness();

const TOKEN = 'tok';

beforeAll(async () => {
  await ensureBuilt('apps/features');
  await ensureBuilt('apps/registry');
}, 240_000);

async function startServices() {
  const featureDir = await createTempDir('train-features-');
  const registryDir = await createTempDir('train-registry-');
  const [featureApp, registryApp] = await Promise.all([
    startApp({
      name: 'features',
      entry: path.join(repoRoot, 'apps/features/dist/main.js'),
      env: {
        SLIPWAY_FEATURES_ADDR: '127.0.0.1:0',
        SLIPWAY_FEATURES_DATA_DIR: featureDir.path,
        SLIPWAY_FEATURES_TOKENS: `${TOKEN}=ci:deployer`,
      },
    }),
    startApp({
      name: 'registry',
      entry: path.join(repoRoot, 'apps/registry/dist/main.js'),
      env: {
        SLIPWAY_REGISTRY_ADDR: '127.0.0.1:0',
        SLIPWAY_REGISTRY_DATA_DIR: registryDir.path,
        SLIPWAY_REGISTRY_TOKENS: `${TOKEN}=ci:deployer`,
      },
    }),
  ]);
  return {
    features: featureApp.address,
    registry: registryApp.address,
    stop: async () => {
      for (const app of [featureApp, registryApp]) {
        expect(await app.stop()).toMatchObject({ code: 0, timedOut: false });
      }
    },
  };
}

function bits(vector: ArrayLike<number>): number[] {
  return [...new Uint32Array(Float32Array.from(vector).buffer)];
}

describe('slipway train demo --features', () => {
  it('trains on point-in-time rows from the feature service and serves bit-identical vectors', async () => {
    const addresses = await startServices();
    try {
      await trainAndCheck(addresses);
    } finally {
      await addresses.stop();
    }
  }, 180_000);
});

describe('gRPC historical reader', () => {
  it('merges PRESENT views only: an expired or missing view contributes no fields', async () => {
    const dir = await createTempDir('train-reader-');
    const app = await startApp({
      name: 'features',
      entry: path.join(repoRoot, 'apps/features/dist/main.js'),
      env: {
        SLIPWAY_FEATURES_ADDR: '127.0.0.1:0',
        SLIPWAY_FEATURES_DATA_DIR: dir.path,
        SLIPWAY_FEATURES_TOKENS: `${TOKEN}=ci:deployer`,
      },
    });
    const client = createFeatureServiceClient({ address: app.address, token: TOKEN });
    try {
      await client.registerViews(DEMO_FEATURE_VIEWS);
      const t0 = new Date('2026-02-01T00:00:00Z');
      const totals = await client.writeFeatures(
        [
          {
            view: 'demo_user_profile',
            entityId: 'u1',
            eventTime: t0,
            values: { accountAgeDays: 10, avgAmount30d: 55.5 },
          },
          { view: 'demo_user_activity', entityId: 'u1', eventTime: t0, values: { txCount24h: 3 } },
          {
            view: 'demo_user_activity',
            entityId: 'u1',
            eventTime: new Date(t0.getTime() + 10_000),
            values: { txCount24h: 9 },
          },
        ],
        2,
      );
      expect(totals).toEqual({ written: 3, duplicates: 0, batches: 2 });
      const views = DEMO_FEATURE_VIEWS.map((v) => v.name);
      const at = (ms: number) => ({ entityKeys: { userId: 'u1' }, asOfTime: new Date(t0.getTime() + ms) });
      const rows = await client.reader.getHistoricalRows({
        views,
        queries: [
          at(-1),
          at(0),
          at(9_999),
          at(10_000),
          at(2 * 3_600_000),
          { ...at(0), entityKeys: { userId: 'u2' } },
        ],
      });
      expect(rows).toEqual([
        {},
        { accountAgeDays: 10, avgAmount30d: 55.5, txCount24h: 3 },
        { accountAgeDays: 10, avgAmount30d: 55.5, txCount24h: 3 },
        { accountAgeDays: 10, avgAmount30d: 55.5, txCount24h: 9 },
        // demo_user_activity's 1 h TTL has passed; the profile's 24 h has not.
        { accountAgeDays: 10, avgAmount30d: 55.5 },
        {},
      ]);
    } finally {
      client.close();
    }
    expect(await app.stop()).toMatchObject({ code: 0, timedOut: false });
  });
});

async function trainAndCheck(addresses: { features: string; registry: string }): Promise<void> {
  const out = await createTempDir('train-features-out-');
  const printed: string[] = [];
  const rows = 3_000;
  const seed = 7;
  const code = await runTrainCli(
    [
      'demo',
      '--rows',
      String(rows),
      '--seed',
      String(seed),
      '--features',
      addresses.features,
      '--registry',
      addresses.registry,
      '--token',
      TOKEN,
      '--label-delay',
      '2d',
      '--out',
      out.path,
      '--json',
    ],
    { stdout: (t) => printed.push(t), stderr: (t) => printed.push(t), env: {} },
  );
  expect(code, printed.join('\n')).toBe(0);
  const summary = JSON.parse(printed.at(-1)!);
  expect(summary.registered).toBe('fraud@1');

  // The in-memory generator's rows for the same seed, and the fit training should have made.
  const memory = await createDemoDataSource({ rows, seed }).load();
  const split = timeSplit(memory.time!.epochMs, 0.2);
  const expected = fit(
    DEMO_FEATURE_SET_SPEC,
    Array.from(split.train, (i) => memory.rows[i]!),
  );
  const fitted = parseFitted(await readFile(path.join(out.path, 'feature-set.json'), 'utf8'));
  expect(fitted.contentHash).toBe(expected.contentHash);

  // Historical retrieval again, row by row: exactly the generator's values as of each
  // transaction, although later events of the same users (other txCount24h) are stored.
  const transactions = generateTransactions({ rows, seed });
  const first = transactions[0]!;
  const client = createFeatureServiceClient({ address: addresses.features, token: TOKEN });
  try {
    const historical = await createHistoricalDataSource({
      reader: client.reader,
      views: DEMO_FEATURE_VIEWS.map((v) => v.name),
      examples: demoExamples(transactions),
      timeField: 'eventTime',
    }).load();
    expect(historical.rows.map((r) => canonicalJson(r))).toEqual(memory.rows.map((r) => canonicalJson(r)));
    expect(dataSnapshot(historical).sha256).toBe(dataSnapshot(memory).sha256);
    const counts = new Map<string, Set<number>>();
    for (const t of transactions) counts.set(t.userId, (counts.get(t.userId) ?? new Set()).add(t.txCount24h));
    expect([...counts.values()].some((s) => s.size > 1)).toBe(true);
    // Before a user's first event there is nothing to read.
    const firstTime = Math.min(
      ...transactions.filter((t) => t.userId === first.userId).map((t) => t.eventTime.getTime()),
    );
    const [before] = await client.reader.getHistoricalRows({
      views: DEMO_FEATURE_VIEWS.map((v) => v.name),
      queries: [{ entityKeys: { userId: first.userId }, asOfTime: new Date(firstTime - 1) }],
    });
    expect(before).toEqual({});
  } finally {
    client.close();
  }

  // Lineage names the feature set the service now holds.
  const models = createClient(registry.ModelServiceService, addresses.registry);
  const { version } = await models.getModelVersion({ model: 'fraud', version: 1, alias: '' });
  models.close();
  expect(version!.lineage!.featureSet).toEqual({
    name: 'demo_transactions',
    version: 1,
    contentHash: expected.contentHash,
  });
  expect(version!.lineage!.dataSnapshot!.sha256).toBe(dataSnapshot(memory).sha256);

  const labels = (await readFile(path.join(out.path, 'labels.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as DemoLabel);
  expect(labels).toHaveLength(rows);
  expect(labels[0]).toEqual({
    transactionId: first.transactionId,
    userId: first.userId,
    eventTime: first.eventTime.toISOString(),
    label: first.label,
    labelTime: new Date(first.eventTime.getTime() + 2 * 86_400_000).toISOString(),
  });

  // Serving: fresh user values now, the transaction's values at request time.
  const service = createClient(features.FeatureServiceService, addresses.features, { token: TOKEN });
  try {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const user = { accountAgeDays: 45, avgAmount30d: 61.25, txCount24h: 4 };
    const request = { amount: 310.5, hourOfDay: 3, merchantRisk: 0.42, distanceKm: 120.7, isForeign: 1 };
    await service.writeFeatures({
      rows: DEMO_FEATURE_VIEWS.map((view) => ({
        view: view.name,
        entityId: 'u-fresh',
        eventTime: now,
        values: Object.fromEntries(
          view.fields.map((f) => [f.name, toRawValue(user[f.name as keyof typeof user])]),
        ),
      })),
    });
    const served = await service.getFeatureVector({
      featureSet: { name: 'demo_transactions', version: 1, contentHash: fitted.contentHash },
      entityKeys: { userId: 'u-fresh' },
      requestValues: Object.fromEntries(Object.entries(request).map(([k, v]) => [k, toRawValue(v)])),
      omitNames: false,
    });
    expect(served.statuses.every((s) => s === features.FeatureStatus.FEATURE_STATUS_PRESENT)).toBe(true);
    expect(served.columns).toEqual([...fitted.columns]);
    expect(bits(served.vector)).toEqual(
      bits(transformRow(fitted, { ...user, ...request, userId: 'u-fresh' })),
    );
  } finally {
    service.close();
  }
}
