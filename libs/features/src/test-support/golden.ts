import type { FeatureSetSpec } from '../spec.js';
import type { Row } from '../values.js';

/**
 * A small hand-checked data set touching every source and transform. The expected values in
 * `golden.test.ts` are worked out from these rows by hand; see the comments there.
 */
export const goldenSpec: FeatureSetSpec = {
  name: 'card-txn',
  version: 3,
  entityKeys: ['user_id'],
  features: [
    {
      name: 'amount_log',
      source: { field: 'amount' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'median' }, { type: 'log1p' }],
    },
    {
      name: 'amount_std',
      source: { field: 'amount' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'mean' }, { type: 'standardize' }],
    },
    { name: 'amount_mm', source: { field: 'amount' }, kind: 'numeric', transforms: [{ type: 'min-max' }] },
    {
      name: 'amount_clip',
      source: { field: 'amount' },
      kind: 'numeric',
      transforms: [{ type: 'clip', min: 0, max: 25 }],
    },
    {
      name: 'amount_bucket',
      source: { field: 'amount' },
      kind: 'numeric',
      transforms: [{ type: 'bucketize', boundaries: [10, 20] }],
    },
    {
      name: 'amount_q',
      source: { field: 'amount' },
      kind: 'numeric',
      transforms: [{ type: 'bucketize', quantiles: 4 }],
    },
    {
      name: 'amount_mode',
      source: { field: 'amount' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'mode' }],
    },
    {
      name: 'merchant',
      source: { field: 'merchant' },
      kind: 'categorical',
      transforms: [
        { type: 'impute', strategy: 'mode' },
        { type: 'one-hot', topK: 2 },
      ],
    },
    {
      name: 'merchant_hash',
      source: { field: 'merchant' },
      kind: 'categorical',
      transforms: [{ type: 'hash-bucket', buckets: 8 }],
    },
    {
      name: 'country',
      source: { field: 'country' },
      kind: 'categorical',
      transforms: [
        { type: 'impute', strategy: 'constant', value: 'XX' },
        { type: 'hash-bucket', buckets: 4, output: 'one-hot' },
      ],
    },
    {
      name: 'spend_ratio',
      source: { ratio: ['amount', 'limit'] },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'constant', value: 0 }],
    },
    { name: 'txn_hour', source: { time: { field: 'ts', part: 'hour' } }, kind: 'numeric', transforms: [] },
    {
      name: 'txn_dow',
      source: { time: { field: 'ts', part: 'day_of_week' } },
      kind: 'numeric',
      transforms: [],
    },
    {
      name: 'account_age',
      source: { time: { field: 'signup_ts', part: 'age_seconds', since: 'ts' } },
      kind: 'numeric',
      transforms: [],
      ttlSeconds: 86_400,
    },
    {
      name: 'device_score',
      source: { requestTime: 'device_score' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'constant', value: -1 }],
    },
  ],
};

/** Five training rows with strings, nulls, blanks, a zero denominator and mixed time types. */
export const goldenRows: Row[] = [
  // Monday 10:15 UTC; account 3 days old.
  {
    user_id: 'u0',
    amount: 10,
    merchant: 'grocery',
    country: 'DE',
    limit: 100,
    ts: '2024-03-04T10:15:00Z',
    signup_ts: '2024-03-01T10:15:00Z',
    device_score: 0.5,
  },
  // Tuesday 23:59:59 UTC; zero limit → ratio missing → imputed 0.
  {
    user_id: 'u1',
    amount: 20,
    merchant: 'grocery',
    country: 'FR',
    limit: 0,
    ts: '2024-03-05T23:59:59Z',
    signup_ts: new Date('2024-03-05T23:59:00Z'),
    device_score: 0.25,
  },
  // 00:00 at +02:00 is Saturday 22:00 UTC; amount missing.
  {
    user_id: 'u2',
    amount: null,
    merchant: 'travel',
    country: null,
    limit: 50,
    ts: '2024-03-10T00:00:00+02:00',
    signup_ts: '2024-03-09',
  },
  // Epoch milliseconds: 2024-03-07T06:30:00Z, a Thursday.
  {
    user_id: 'u3',
    amount: 40,
    merchant: 'fuel',
    country: 'DE',
    limit: '80',
    ts: 1709793000000,
    signup_ts: 1709793000000 - 1500,
    device_score: '0.75',
  },
  // Numeric string, blank merchant (→ mode), no time at all.
  { user_id: 'u4', amount: ' 30 ', merchant: '', country: 'DE', limit: null, ts: null },
];
