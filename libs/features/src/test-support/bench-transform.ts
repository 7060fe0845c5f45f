/**
 * Informal throughput check (not part of the test suite):
 *   npx tsx libs/features/src/test-support/bench-transform.ts
 * Ten features of every kind over pre-built raw rows; prints rows/s per path.
 */
import { compile, fit, transform, type FeatureSetSpec, type Row } from '../index.js';

const spec: FeatureSetSpec = {
  name: 'bench',
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
      name: 'amount_mm',
      source: { field: 'amount' },
      kind: 'numeric',
      transforms: [{ type: 'min-max' }, { type: 'clip', min: 0, max: 1 }],
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
      transforms: [{ type: 'impute', strategy: 'mean' }, { type: 'standardize' }],
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
        { type: 'one-hot', topK: 20 },
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
      name: 'score',
      source: { requestTime: 'score' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'constant', value: -1 }],
    },
  ],
};

let seed = 42;
const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const rows: Row[] = Array.from({ length: 100_000 }, (_, i) => ({
  user_id: `u${i % 5000}`,
  amount: rand() < 0.05 ? null : Math.round(rand() * 50_000) / 100,
  balance: rand() * 10_000 - 2_000,
  limit: 1000 + Math.floor(rand() * 9) * 1000,
  merchant: `m${Math.floor(rand() * rand() * 40)}`,
  country: ['DE', 'FR', 'US', 'GB', 'NL'][Math.floor(rand() * 5)],
  device: `dev-${Math.floor(rand() * 1e6).toString(36)}`,
  ts: 1_700_000_000_000 + Math.floor(rand() * 3e10),
  score: rand(),
}));

/** Best of five runs after a warm-up: the machine is shared, so the best run is the least disturbed. */
function rate(label: string, n: number, run: () => void): void {
  run();
  let best = Infinity;
  for (let k = 0; k < 5; k++) {
    const start = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  console.log(`${label.padEnd(28)} ${Math.round(n / best).toLocaleString('en')} rows/s`);
}

const t = process.hrtime.bigint();
const fitted = fit(spec, rows);
console.log(
  `fit 100k rows: ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(0)} ms, ${fitted.columns.length} columns`,
);
const c = compile(fitted);
rate('transform (batch)', rows.length, () => transform(fitted, rows));
rate('transformRow', rows.length, () => {
  for (const r of rows) c.transformRow(r);
});
const out = new Float32Array(c.width);
rate('transformRowInto (reused)', rows.length, () => {
  for (const r of rows) c.transformRowInto(r, out);
});
