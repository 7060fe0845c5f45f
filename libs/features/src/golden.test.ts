import { describe, expect, it } from 'vitest';
import { compile, FeatureStatus, fit, transform, transformRow } from './index.js';
import { bits } from './test-support/bits.js';
import { goldenRows, goldenSpec } from './test-support/golden.js';

const { PRESENT: P, MISSING: M, DEFAULTED: D } = FeatureStatus;
const fitted = fit(goldenSpec, goldenRows);

describe('golden vectors', () => {
  it('fits the hand-computed statistics', () => {
    // amount present: 10, 20, 40, 30 (row 2 is null, row 4 is the string " 30 ").
    expect(fitted.rowCount).toBe(5);
    expect(fitted.features.map((f) => f.transforms)).toEqual([
      [{ type: 'impute', value: 25 }, { type: 'log1p' }], // median of 10,20,30,40
      // after impute: 10,20,25,40,30 → mean 25, squares 225+25+0+225+25 = 500, /5 → std 10
      [
        { type: 'impute', value: 25 },
        { type: 'standardize', mean: 25, std: 10 },
      ],
      [{ type: 'min-max', min: 10, max: 40 }],
      [{ type: 'clip', min: 0, max: 25 }],
      [{ type: 'bucketize', boundaries: [10, 20] }],
      // type-7 quantiles of 10,20,30,40 at 1/4, 2/4, 3/4
      [{ type: 'bucketize', boundaries: [17.5, 25, 32.5] }],
      [{ type: 'impute', value: 10 }], // every value once: the smallest wins
      // mode grocery; after impute grocery 3, fuel 1, travel 1: top 2 = grocery, fuel (tie by name)
      [
        { type: 'impute', value: 'grocery' },
        { type: 'one-hot', categories: ['fuel', 'grocery'] },
      ],
      [{ type: 'hash-bucket', buckets: 8, output: 'index' }],
      [
        { type: 'impute', value: 'XX' },
        { type: 'hash-bucket', buckets: 4, output: 'one-hot' },
      ],
      [{ type: 'impute', value: 0 }],
      [],
      [],
      [],
      [{ type: 'impute', value: -1 }],
    ]);
  });

  it('names the columns stably', () => {
    expect(fitted.columns).toEqual([
      'amount_log__log1p',
      'amount_std__standardize',
      'amount_mm__min-max',
      'amount_clip__clip',
      'amount_bucket__bucket',
      'amount_q__bucket',
      'amount_mode',
      'merchant=fuel',
      'merchant=grocery',
      'merchant=__unknown__',
      'merchant_hash__hash',
      'country__hash=0',
      'country__hash=1',
      'country__hash=2',
      'country__hash=3',
      'spend_ratio',
      'txn_hour',
      'txn_dow',
      'account_age',
      'device_score',
    ]);
  });

  // fnv1a32 (pinned in hash tests): grocery → 1740652592 (mod 8 = 0), travel → 3865147129 (1),
  // fuel → 90731405 (5); DE → 1003388258 (mod 4 = 2), FR → 1993561969 (1), XX → 2031354349 (1).
  const expected: number[][] = [
    [Math.log1p(10), -1.5, 0, 10, 1, 0, 10, 0, 1, 0, 0, 0, 0, 1, 0, 10 / 100, 10, 0, 3 * 86_400, 0.5],
    [Math.log1p(20), -0.5, 10 / 30, 20, 2, 1, 20, 0, 1, 0, 0, 0, 1, 0, 0, 0, 23, 1, 59, 0.25],
    // amount missing: imputed (25) where the chain has impute, else MISSING → 0; travel → unknown.
    [Math.log1p(25), 0, 0, 0, 0, 0, 10, 0, 0, 1, 1, 0, 1, 0, 0, 0, 22, 5, 22 * 3600, -1],
    [Math.log1p(40), 1.5, 1, 25, 2, 3, 40, 1, 0, 0, 5, 0, 0, 1, 0, 40 / 80, 6, 3, 1.5, 0.75],
    [Math.log1p(30), 0.5, 20 / 30, 25, 2, 2, 30, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, -1],
  ];
  const expectedStatuses = [
    [P, P, P, P, P, P, P, P, P, P, P, P, P, P, P],
    [P, P, P, P, P, P, P, P, P, P, D, P, P, P, P],
    [D, D, M, M, M, M, D, P, P, D, D, P, P, P, D],
    [P, P, P, P, P, P, P, P, P, P, P, P, P, P, P],
    [P, P, P, P, P, P, P, D, M, P, D, M, M, M, D],
  ];

  it('transforms to the hand-computed values, rounded once to float32', () => {
    const result = transform(fitted, goldenRows);
    expect(result.rows).toBe(5);
    expect(bits(result.matrix)).toEqual(bits(expected.flat()));
    expect([...result.statuses]).toEqual(expectedStatuses.flat());
  });

  it('pins the exact float32 bit patterns', () => {
    const result = transform(fitted, goldenRows);
    const row = (r: number) => bits(result.matrix.subarray(r * 20, r * 20 + 20)).join(' ');
    // log1p bits cross-checked against CPython's libm: struct.pack('>f', math.log1p(10)).hex().
    expect([0, 1, 2, 3, 4].map(row)).toEqual([
      '4019771e bfc00000 00000000 41200000 3f800000 00000000 41200000 00000000 3f800000 00000000 00000000 00000000 00000000 3f800000 00000000 3dcccccd 41200000 00000000 487d2000 3f000000',
      '4042d975 bf000000 3eaaaaab 41a00000 40000000 3f800000 41a00000 00000000 3f800000 00000000 00000000 00000000 3f800000 00000000 00000000 00000000 41b80000 3f800000 426c0000 3e800000',
      '405084a7 00000000 00000000 00000000 00000000 00000000 41200000 00000000 00000000 3f800000 3f800000 00000000 3f800000 00000000 00000000 00000000 41b00000 40a00000 479ab000 bf800000',
      '406dab2a 3fc00000 3f800000 41c80000 40000000 40400000 42200000 3f800000 00000000 00000000 40a00000 00000000 00000000 3f800000 00000000 3f000000 40c00000 40400000 3fc00000 3f400000',
      '405bc672 3f000000 3f2aaaab 41c80000 40000000 40000000 41f00000 00000000 3f800000 00000000 00000000 00000000 00000000 3f800000 00000000 00000000 00000000 00000000 00000000 bf800000',
    ]);
  });

  it('gives the same bits from transformRow, transformRowInto and a batch', () => {
    const batch = transform(fitted, goldenRows).matrix;
    const compiled = compile(fitted);
    const into = new Float32Array(5 * 20).fill(Number.NaN);
    goldenRows.forEach((row, r) => {
      expect(bits(transformRow(fitted, row))).toEqual(bits(batch.subarray(r * 20, r * 20 + 20)));
      compiled.transformRowInto(row, into, r * 20);
    });
    expect(bits(into)).toEqual(bits(batch));
  });

  it('pins the content hash', () => {
    expect(fitted.contentHash).toBe('8630ad1850e8861cbe6b529e5c370922d78e0fbecb7c8071432687d9065c17cb');
  });
});
