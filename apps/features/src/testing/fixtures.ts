// Test fixtures: a running feature service on loopback with a fresh database, and a demo feature
// set whose raw rows split across two views.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { features } from '@slipway/contracts';
import type { FeatureSetSpec, Row } from '@slipway/features';
import { createClient, createLogger, parseConfig } from '@slipway/service-kit';
import { featuresConfigSchema } from '../config.js';
import { createFeaturesServer, type FeaturesServer } from '../features-server.js';

/** Deployer `ci`, reader `rita`. */
export const TOKENS = 'dep-token=ci:deployer,read-token=rita:reader';

type Client = ReturnType<typeof createClient<typeof features.FeatureServiceService>>;

/** A feature service started in-process, with clients for every role. */
export interface RunningFeatures extends FeaturesServer {
  readonly address: string;
  /** Deployer token. */
  readonly deployer: Client;
  readonly reader: Client;
  readonly anonymous: Client;
  /** Closes the clients, shuts the server down and removes its data. */
  close(): Promise<void>;
}

/** Starts the service on 127.0.0.1:0 over a fresh data directory. */
export async function startFeatures(): Promise<RunningFeatures> {
  const dir = await mkdtemp(path.join(tmpdir(), 'features-grpc-'));
  const config = parseConfig(featuresConfigSchema, {
    SLIPWAY_FEATURES_ADDR: '127.0.0.1:0',
    SLIPWAY_FEATURES_DATA_DIR: dir,
    SLIPWAY_FEATURES_TOKENS: TOKENS,
  });
  const built = createFeaturesServer(config, createLogger('features', { level: 'warn' }));
  const { address } = await built.server.start();
  const clients = {
    deployer: createClient(features.FeatureServiceService, address, { token: 'dep-token' }),
    reader: createClient(features.FeatureServiceService, address, { token: 'read-token' }),
    anonymous: createClient(features.FeatureServiceService, address),
  };
  return {
    ...built,
    ...clients,
    address,
    async close() {
      for (const client of Object.values(clients)) client.close();
      await built.server.shutdown('test done');
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

const { VALUE_TYPE_NUMBER: NUMBER, VALUE_TYPE_TEXT: TEXT } = features.ValueType;

/** The demo views: a slowly changing profile and fast-moving activity, both keyed by user. */
export const demoViews = {
  profile: {
    name: 'user_profile',
    entityKey: 'user_id',
    fields: [
      { name: 'country', type: TEXT },
      { name: 'device', type: TEXT },
      { name: 'limit', type: NUMBER },
    ],
    ttlSeconds: 0,
  },
  activity: {
    name: 'user_activity',
    entityKey: 'user_id',
    fields: [
      { name: 'amount', type: NUMBER },
      { name: 'balance', type: NUMBER },
      { name: 'merchant', type: TEXT },
      { name: 'ts', type: NUMBER },
    ],
    ttlSeconds: 0,
  },
} satisfies Record<string, features.RegisterFeatureViewRequest>;

/** Ten features of every kind over both views and two request-time values. */
export const demoSpec: FeatureSetSpec = {
  name: 'fraud_user',
  version: 1,
  entityKeys: ['user_id'],
  features: [
    {
      name: 'amount_log',
      source: { field: 'amount' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'median' }, { type: 'log1p' }, { type: 'standardize' }],
    },
    {
      name: 'amount_q',
      source: { field: 'amount' },
      kind: 'numeric',
      transforms: [{ type: 'bucketize', quantiles: 10 }],
    },
    {
      name: 'balance',
      source: { field: 'balance' },
      kind: 'numeric',
      transforms: [
        { type: 'impute', strategy: 'mean' },
        { type: 'min-max' },
        { type: 'clip', min: 0, max: 1 },
      ],
    },
    {
      name: 'spend_ratio',
      source: { ratio: ['amount', 'limit'] },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'constant', value: 0 }],
    },
    {
      name: 'merchant',
      source: { field: 'merchant' },
      kind: 'categorical',
      transforms: [
        { type: 'impute', strategy: 'mode' },
        { type: 'one-hot', topK: 8 },
      ],
    },
    { name: 'country', source: { field: 'country' }, kind: 'categorical', transforms: [{ type: 'one-hot' }] },
    {
      name: 'device',
      source: { field: 'device' },
      kind: 'categorical',
      transforms: [{ type: 'hash-bucket', buckets: 1024 }],
    },
    { name: 'hour', source: { time: { field: 'ts', part: 'hour' } }, kind: 'numeric', transforms: [] },
    {
      name: 'age',
      source: { time: { field: 'ts', part: 'age_seconds', since: 'now_ts' } },
      kind: 'numeric',
      transforms: [{ type: 'log1p' }],
    },
    {
      name: 'score',
      source: { requestTime: 'score' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'constant', value: -1 }, { type: 'standardize' }],
    },
  ],
};

/** A deterministic generator in [0, 1). */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Training rows for `n` users (`u0` …): stored fields, request-time values and some gaps. */
export function demoRows(n: number, seed = 7): Row[] {
  const rand = random(seed);
  const base = Date.UTC(2024, 0, 1);
  return Array.from({ length: n }, (_, i) => {
    const ts = base + Math.floor(rand() * 30 * 86_400_000);
    return {
      user_id: `u${i}`,
      amount: rand() < 0.05 ? null : Math.round(rand() * 50_000) / 100,
      balance: rand() < 0.03 ? null : rand() * 10_000 - 2_000,
      limit: rand() < 0.02 ? 0 : 1000 + Math.floor(rand() * 9) * 1000,
      merchant: rand() < 0.04 ? null : `m${Math.floor(rand() * rand() * 20)}`,
      country: ['DE', 'FR', 'US', 'GB', 'NL'][Math.floor(rand() * 5)]!,
      device: `dev-${Math.floor(rand() * 1e6).toString(36)}`,
      ts,
      score: rand() < 0.1 ? null : rand(),
      now_ts: ts + Math.floor(rand() * 3_600_000),
    };
  });
}

/** A raw value as a proto value (null: kind unset). */
export function protoValue(value: unknown): features.RawValue {
  if (typeof value === 'number') return { kind: { $case: 'number', number: value } };
  if (typeof value === 'string') return { kind: { $case: 'text', text: value } };
  return { kind: undefined };
}

/** `{ field: raw }` as a proto value map, only the named fields. */
export function protoValues(row: Row, fields: readonly string[]): Record<string, features.RawValue> {
  return Object.fromEntries(fields.map((f) => [f, protoValue(row[f])]));
}

/** The WriteFeatures rows of one demo row: one per view. */
export function demoWriteRows(row: Row, eventTime: Date): features.FeatureRow[] {
  return Object.values(demoViews).map((view) => ({
    view: view.name,
    entityId: row['user_id'] as string,
    eventTime,
    values: protoValues(
      row,
      view.fields.map((f) => f.name),
    ),
  }));
}

/** Float32 bit patterns as hex, for exact comparisons. */
export function bits(values: ArrayLike<number>): string[] {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  return Array.from(new Uint32Array(f32.buffer, f32.byteOffset, f32.length), (x) =>
    x.toString(16).padStart(8, '0'),
  );
}
