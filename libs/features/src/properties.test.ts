import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compile,
  fit,
  parseFitted,
  serializeFitted,
  transform,
  transformRow,
  type FeatureSetSpec,
  type Row,
} from './index.js';
import { bits } from './test-support/bits.js';

/** Seeded so a failure reproduces; fast-check prints the counterexample and path. */
const RUNS = { seed: 0x5ee7, numRuns: 60 } as const;

const spec: FeatureSetSpec = {
  name: 'prop',
  version: 1,
  entityKeys: ['id'],
  features: [
    {
      name: 'a_log',
      source: { field: 'a' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'median' }, { type: 'log1p' }, { type: 'standardize' }],
    },
    {
      name: 'a_mm',
      source: { field: 'a' },
      kind: 'numeric',
      transforms: [
        { type: 'impute', strategy: 'mean' },
        { type: 'min-max' },
        { type: 'clip', min: 0.1, max: 0.9 },
      ],
    },
    {
      name: 'a_q',
      source: { field: 'a' },
      kind: 'numeric',
      transforms: [{ type: 'bucketize', quantiles: 5 }],
    },
    {
      name: 'a_mode',
      source: { field: 'a' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'mode' }, { type: 'standardize' }],
    },
    {
      name: 'ratio',
      source: { ratio: ['a', 'b'] },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'constant', value: 0 }, { type: 'log1p' }],
    },
    {
      name: 'm',
      source: { field: 'm' },
      kind: 'categorical',
      transforms: [
        { type: 'impute', strategy: 'mode' },
        { type: 'one-hot', topK: 3 },
      ],
    },
    {
      name: 'm_h',
      source: { field: 'm' },
      kind: 'categorical',
      transforms: [{ type: 'hash-bucket', buckets: 5, output: 'one-hot' }],
    },
    { name: 'hour', source: { time: { field: 't', part: 'hour' } }, kind: 'numeric', transforms: [] },
    {
      name: 'age',
      source: { time: { field: 't', part: 'age_seconds', since: 'now' } },
      kind: 'numeric',
      transforms: [{ type: 'standardize' }],
    },
    {
      name: 'req',
      source: { requestTime: 'r' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'constant', value: -1 }],
    },
  ],
};

const number = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.integer({ min: -50, max: 50 }),
  fc.constantFrom(null, undefined, Number.NaN, '', 'NA', '12.5', -0),
);
const row: fc.Arbitrary<Row> = fc.record({
  id: fc.nat(),
  a: number,
  b: number,
  m: fc.constantFrom('grocery', 'fuel', 'travel', 'café', '東京', '', null, 7),
  t: fc.oneof(fc.integer({ min: 0, max: 2e12 }), fc.constant(null)),
  now: fc.constant(2e12),
  r: number,
});
// At least one row with a present value, so every statistic has something to fit on.
const anchor: Row = { id: 0, a: 1, b: 2, m: 'grocery', t: 0, now: 2e12, r: 0 };
const rows = fc.array(row, { maxLength: 40 }).map((rs) => [anchor, ...rs]);

describe('properties', () => {
  it('transform of a batch equals transformRow of each row, bit for bit', () => {
    fc.assert(
      fc.property(rows, fc.array(row, { minLength: 1, maxLength: 10 }), (train, serve) => {
        const fitted = fit(spec, train);
        const batch = transform(fitted, serve);
        const width = fitted.columns.length;
        serve.forEach((r, i) => {
          expect(bits(transformRow(fitted, r))).toEqual(
            bits(batch.matrix.subarray(i * width, (i + 1) * width)),
          );
        });
        // A reloaded copy (as the feature service holds it) gives the same bits too.
        expect(bits(compile(parseFitted(serializeFitted(fitted))).transform(serve).matrix)).toEqual(
          bits(batch.matrix),
        );
      }),
      RUNS,
    );
  });

  it('fit is deterministic and independent of row order, hash included', () => {
    const shuffled = rows.chain((rs) =>
      fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length })),
    );
    fc.assert(
      fc.property(shuffled, ([train, permuted]) => {
        const a = fit(spec, train);
        expect(fit(spec, train)).toEqual(a);
        const b = fit(spec, permuted);
        expect(serializeFitted(b)).toBe(serializeFitted(a));
      }),
      RUNS,
    );
  });
});
