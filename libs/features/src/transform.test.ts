import { InvalidArgumentError } from '@slipway/errors';
import { describe, expect, it } from 'vitest';
import {
  compile,
  FeatureStatus,
  fit,
  fnv1a32,
  hashBucket,
  MISSING_VALUE,
  transform,
  transformRow,
  type FeatureSetSpec,
} from './index.js';
import { bits } from './test-support/bits.js';

const { PRESENT, MISSING, DEFAULTED } = FeatureStatus;

function spec(features: FeatureSetSpec['features']): FeatureSetSpec {
  return { name: 't', version: 1, entityKeys: ['id'], features };
}

describe('one-hot', () => {
  const fitted = fit(
    spec([
      {
        name: 'm',
        source: { field: 'm' },
        kind: 'categorical',
        transforms: [{ type: 'one-hot', minFrequency: 2 }],
      },
    ]),
    ['a', 'a', 'b', 'b', 'b', 'c', '__unknown__', '__unknown__'].map((m) => ({ m })),
  );

  it('keeps frequent categories in name order plus an explicit unknown column', () => {
    expect(fitted.columns).toEqual(['m=a', 'm=b', 'm=__unknown__']);
  });

  it('sends unseen, dropped and literal "__unknown__" values to the unknown column', () => {
    for (const m of ['zzz', 'c', '__unknown__', 7]) {
      expect([...transformRow(fitted, { m })]).toEqual([0, 0, 1]);
    }
    expect([...transformRow(fitted, { m: 'b' })]).toEqual([0, 1, 0]);
  });

  it('writes all zeros and MISSING for a missing value without impute', () => {
    const statuses = new Uint8Array(1);
    expect([...transformRow(fitted, { m: null }, { statuses })]).toEqual([0, 0, 0]);
    expect(statuses[0]).toBe(MISSING);
  });

  it('ranks by count then name when topK cuts', () => {
    const f = fit(
      spec([
        {
          name: 'm',
          source: { field: 'm' },
          kind: 'categorical',
          transforms: [{ type: 'one-hot', topK: 2 }],
        },
      ]),
      ['z', 'z', 'y', 'x', 'w'].map((m) => ({ m })),
    );
    expect(f.columns).toEqual(['m=w', 'm=z', 'm=__unknown__']);
  });
});

describe('hash-bucket', () => {
  it('pins FNV-1a 32 over UTF-8', () => {
    // Published FNV-1a test vectors, then non-ASCII (2-, 3- and 4-byte UTF-8).
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(fnv1a32('grocery')).toBe(1740652592);
    expect(fnv1a32('café')).toBe(fnv1a32('caf\u00e9'));
    expect(hashBucket('grocery', 8)).toBe(0);
    expect(hashBucket('fuel', 8)).toBe(5);
  });

  it('hashes non-ASCII exactly like hashing the TextEncoder bytes', () => {
    const reference = (s: string) => {
      let h = 0x811c9dc5;
      for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193);
      return h >>> 0;
    };
    for (const s of ['café', 'Zürich', '東京', '🙂 emoji', 'lone \ud800 surrogate', 'end \udfff']) {
      expect(fnv1a32(s)).toBe(reference(s));
    }
  });

  it('gives stable bucket indexes and one-hot columns', () => {
    const fitted = fit(
      spec([
        {
          name: 'i',
          source: { field: 'c' },
          kind: 'categorical',
          transforms: [{ type: 'hash-bucket', buckets: 1000 }],
        },
        {
          name: 'o',
          source: { field: 'c' },
          kind: 'categorical',
          transforms: [{ type: 'hash-bucket', buckets: 3, output: 'one-hot' }],
        },
      ]),
      [],
    );
    expect(fitted.columns).toEqual(['i__hash', 'o__hash=0', 'o__hash=1', 'o__hash=2']);
    // 0xbf9cf968 = 3214735720 → mod 1000 = 720, mod 3 = 1.
    expect([...transformRow(fitted, { c: 'foobar' })]).toEqual([720, 0, 1, 0]);
  });
});

describe('impute', () => {
  const fitted = fit(
    spec([
      {
        name: 'mean',
        source: { field: 'x' },
        kind: 'numeric',
        transforms: [{ type: 'impute', strategy: 'mean' }],
      },
      {
        name: 'median',
        source: { field: 'x' },
        kind: 'numeric',
        transforms: [{ type: 'impute', strategy: 'median' }],
      },
      {
        name: 'mode',
        source: { field: 'x' },
        kind: 'numeric',
        transforms: [{ type: 'impute', strategy: 'mode' }],
      },
      {
        name: 'const',
        source: { field: 'x' },
        kind: 'numeric',
        transforms: [{ type: 'impute', strategy: 'constant', value: -7 }],
      },
      { name: 'raw', source: { field: 'x' }, kind: 'numeric', transforms: [] },
    ]),
    // Missing at fit: null, undefined, NaN, '' and a non-numeric marker; present: 1, 2, 2, 7.
    [{ x: 1 }, { x: null }, { x: 2 }, {}, { x: '2' }, { x: Number.NaN }, { x: '' }, { x: 'NA' }, { x: 7 }],
  );

  it('fits on present values only', () => {
    expect(fitted.features.map((f) => f.transforms[0])).toEqual([
      { type: 'impute', value: 3 },
      { type: 'impute', value: 2 },
      { type: 'impute', value: 2 },
      { type: 'impute', value: -7 },
      undefined,
    ]);
  });

  it.each([null, undefined, Number.NaN, Infinity, '', '  ', 'n/a'])(
    'fills %s and reports DEFAULTED; raw is MISSING → %#',
    (x) => {
      const statuses = new Uint8Array(5);
      expect([...transformRow(fitted, { x }, { statuses })]).toEqual([3, 2, 2, -7, MISSING_VALUE]);
      expect([...statuses]).toEqual([DEFAULTED, DEFAULTED, DEFAULTED, DEFAULTED, MISSING]);
    },
  );

  it('refuses to fit a statistic without any present value', () => {
    expect(() =>
      fit(
        spec([{ name: 'x', source: { field: 'x' }, kind: 'numeric', transforms: [{ type: 'standardize' }] }]),
        [{ x: null }],
      ),
    ).toThrow(/feature "x": standardize has no present training values/);
  });
});

describe('ratio', () => {
  const fitted = fit(
    spec([{ name: 'r', source: { ratio: ['a', 'b'] }, kind: 'numeric', transforms: [] }]),
    [],
  );

  it('treats a zero or missing denominator as missing, never ±Infinity', () => {
    for (const row of [
      { a: 1, b: 0 },
      { a: 0, b: 0 },
      { a: -1, b: -0 },
      { a: 1, b: null },
      { a: null, b: 2 },
      { a: 1e308, b: 1e-308 },
    ]) {
      const statuses = new Uint8Array(1);
      expect([...transformRow(fitted, row, { statuses })]).toEqual([0]);
      expect(statuses[0]).toBe(MISSING);
    }
    expect([...transformRow(fitted, { a: '3', b: 4 })]).toEqual([0.75]);
  });
});

describe('time features', () => {
  const fitted = fit(
    spec([
      { name: 'h', source: { time: { field: 't', part: 'hour' } }, kind: 'numeric', transforms: [] },
      { name: 'd', source: { time: { field: 't', part: 'day_of_week' } }, kind: 'numeric', transforms: [] },
      { name: 'age', source: { time: { field: 't', part: 'age_seconds' } }, kind: 'numeric', transforms: [] },
      {
        name: 'since',
        source: { time: { field: 't', part: 'age_seconds', since: 'asof' } },
        kind: 'numeric',
        transforms: [],
      },
    ]),
    [],
  );
  const now = '2024-01-01T00:00:00Z';

  it('reads hour and day of week in UTC whatever the offset (Monday = 0)', () => {
    // 2023-12-31T23:30-05:00 is Monday 2024-01-01 04:30 UTC.
    const row = { t: '2023-12-31T23:30:00-05:00', asof: '2024-01-01T05:30:00Z' };
    expect([...transformRow(fitted, row, { now })]).toEqual([4, 0, -4.5 * 3600, 3600]);
    for (const t of [
      Date.UTC(2024, 0, 7, 23),
      new Date(Date.UTC(2024, 0, 7, 23)),
      '2024-01-07T23:00:00.000Z',
    ]) {
      expect([...transformRow(fitted, { t, asof: t }, { now })].slice(0, 2)).toEqual([23, 6]);
    }
    // Before the epoch: 1969-12-31T23:00Z was a Wednesday.
    expect([...transformRow(fitted, { t: -3_600_000 }, { now })].slice(0, 2)).toEqual([23, 2]);
  });

  it('agrees with Date#getUTCHours and #getUTCDay over many instants', () => {
    const c = compile(fitted);
    for (let ms = -5e11; ms < 5e12; ms += 7_919_993_111) {
      const d = new Date(ms);
      const [h, dow] = c.transformRow({ t: ms }, { now: 0 });
      expect([h, dow]).toEqual([d.getUTCHours(), (d.getUTCDay() + 6) % 7]);
    }
  });

  it('takes the reference time from request values before the row', () => {
    const row = { t: '2024-01-01T00:00:00Z', asof: '2024-01-01T00:00:10Z' };
    expect(transformRow(fitted, row, { now, requestValues: { asof: '2024-01-01T00:01:00Z' } })[3]).toBe(60);
  });

  it('refuses zone-less timestamps and age without a reference time', () => {
    expect(() => transformRow(fitted, { t: '2024-01-01T10:00:00' }, { now })).toThrow(
      /feature "h": field "t" holds "2024-01-01T10:00:00"; pass epoch milliseconds, a Date, or ISO-8601 with "Z"/,
    );
    expect(() => transformRow(fitted, { t: 0 })).toThrow(
      /feature "age": age_seconds without "since" needs the reference time; pass the "now" option/,
    );
  });
});

describe('request-time values', () => {
  const fitted = fit(
    spec([
      {
        name: 'score',
        source: { requestTime: 'score' },
        kind: 'numeric',
        transforms: [{ type: 'standardize' }],
      },
    ]),
    [{ score: 1 }, { score: 3 }],
  );

  it('are fitted from training rows and supplied by the caller at transform time', () => {
    expect(fitted.features[0]!.transforms).toEqual([{ type: 'standardize', mean: 2, std: 1 }]);
    expect([...transformRow(fitted, { score: 100 }, { requestValues: { score: 4 } })]).toEqual([2]);
    expect([...transformRow(fitted, { score: 4 })]).toEqual([2]);
  });

  it('take one record for a batch or one per row', () => {
    expect([...transform(fitted, [{}, {}], { requestValues: { score: 3 } }).matrix]).toEqual([1, 1]);
    expect([...transform(fitted, [{}, {}], { requestValues: [{ score: 3 }, { score: 0 }] }).matrix]).toEqual([
      1, -2,
    ]);
    expect(() => transform(fitted, [{}, {}], { requestValues: [{ score: 3 }] })).toThrow(
      /1 request-value records for 2 rows/,
    );
  });
});

describe('numeric transforms', () => {
  it('clips, uses signed log1p, and handles constant columns', () => {
    const fitted = fit(
      spec([
        {
          name: 'l',
          source: { field: 'x' },
          kind: 'numeric',
          transforms: [{ type: 'log1p' }, { type: 'clip', max: 1 }],
        },
        { name: 's', source: { field: 'k' }, kind: 'numeric', transforms: [{ type: 'standardize' }] },
        { name: 'mm', source: { field: 'k' }, kind: 'numeric', transforms: [{ type: 'min-max' }] },
        {
          name: 'q',
          source: { field: 'k' },
          kind: 'numeric',
          transforms: [{ type: 'bucketize', quantiles: 4 }],
        },
      ]),
      [
        { x: 0, k: 5 },
        { x: 1, k: 5 },
      ],
    );
    expect(fitted.features[3]!.transforms).toEqual([{ type: 'bucketize', boundaries: [5] }]);
    expect(bits(transformRow(fitted, { x: -Math.E + 1, k: 6 }))).toEqual(bits([-1, 1, 0, 1]));
    expect(bits(transformRow(fitted, { x: 0.5, k: 4 }))).toEqual(bits([Math.log1p(0.5), -1, 0, 0]));
  });
});

describe('input errors', () => {
  const fitted = fit(
    spec([
      { name: 'n', source: { field: 'n' }, kind: 'numeric', transforms: [] },
      {
        name: 'c',
        source: { field: 'c' },
        kind: 'categorical',
        transforms: [{ type: 'hash-bucket', buckets: 2 }],
      },
    ]),
    [],
  );

  it('name the feature, the field and the fix', () => {
    expect(() => transformRow(fitted, { n: { v: 1 } })).toThrow(InvalidArgumentError);
    expect(() => transformRow(fitted, { n: [1] })).toThrow(
      /feature "n": field "n" holds an array; pass a number/,
    );
    expect(() => transformRow(fitted, { c: new Date() })).toThrow(
      /feature "c": field "c" holds a Date; pass a string/,
    );
    expect(() => compile(fitted).transformRowInto({}, new Float32Array(1))).toThrow(
      /output needs 2 floats at offset 0 but has 1/,
    );
  });

  it('accept booleans and bigints', () => {
    expect([...transformRow(fitted, { n: true, c: 10n })]).toEqual([1, fnv1a32('10') % 2]);
    const statuses = new Uint8Array(2);
    transformRow(fitted, { n: 5n, c: false }, { statuses });
    expect([...statuses]).toEqual([PRESENT, PRESENT]);
  });
});

describe('fit input', () => {
  it('reads any iterable once and refuses statistics that overflow', () => {
    function* gen() {
      yield { x: 1 };
      yield { x: 3 };
    }
    const s = spec([
      { name: 'x', source: { field: 'x' }, kind: 'numeric', transforms: [{ type: 'standardize' }] },
    ]);
    expect(fit(s, gen()).features[0]!.transforms[0]).toEqual({ type: 'standardize', mean: 2, std: 1 });
    expect(() => fit(s, [{ x: 1e308 }, { x: -1e308 }])).toThrow(
      /feature "x": standardize statistics overflow/,
    );
  });
});
