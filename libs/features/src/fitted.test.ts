import { FailedPreconditionError, InvalidArgumentError } from '@slipway/errors';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  computeContentHash,
  fit,
  parseFitted,
  serializeFitted,
  transform,
  type FeatureSetSpec,
  type FittedFeatureSet,
} from './index.js';
import { bits } from './test-support/bits.js';
import { goldenRows, goldenSpec } from './test-support/golden.js';

const fitted = fit(goldenSpec, goldenRows);

type Path = readonly (string | number)[];

/** A JSON copy of the fitted set with the value at `path` replaced. */
function edited(path: Path, value: unknown): Record<string, unknown> {
  const copy = JSON.parse(serializeFitted(fitted)) as Record<string, unknown>;
  let at = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path.at(-1)!] = value;
  return copy;
}

/** The content hash of the fitted set with the value at `path` replaced. */
function rehashed(path: Path, value: unknown): string {
  return computeContentHash(edited(path, value) as unknown as FittedFeatureSet);
}

describe('canonical JSON', () => {
  it('sorts keys, drops undefined, writes round-trip numbers and no whitespace', () => {
    expect(canonicalJson({ b: [1, 0.1, -0, 1e21, 5e-7], a: 'é"', c: undefined, d: null })).toBe(
      '{"a":"é\\"","b":[1,0.1,0,1e+21,5e-7],"d":null}',
    );
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/NaN/);
  });

  it('round-trips every double exactly', () => {
    for (const x of [0.1 + 0.2, Math.PI, 5e-324, 1.7976931348623157e308, -123.456e-89]) {
      expect(Object.is(JSON.parse(canonicalJson(x)), x)).toBe(true);
    }
  });
});

describe('content hash', () => {
  it('is a sha256 over the canonical form without the hash field', () => {
    expect(fitted.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(computeContentHash(fitted)).toBe(fitted.contentHash);
    expect(rehashed(['rowCount'], 5)).toBe(fitted.contentHash);
  });

  it('ignores key order and defaulted fields of the spec', () => {
    const reverseKeys = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverseKeys)
        : typeof v === 'object' && v !== null
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverseKeys(x)]),
            )
          : v;
    const reordered = reverseKeys(goldenSpec);
    const explicitDefault = JSON.parse(JSON.stringify(goldenSpec)) as {
      features: { transforms: object[] }[];
    };
    explicitDefault.features[8]!.transforms[0] = { type: 'hash-bucket', buckets: 8, output: 'index' };
    for (const spec of [reordered, explicitDefault]) {
      expect(fit(spec as FeatureSetSpec, goldenRows).contentHash).toBe(fitted.contentHash);
    }
  });

  it.each<[string, Path, unknown]>([
    ['a mean', ['features', 1, 'transforms', 1, 'mean'], 25.000000000000004],
    ['a std', ['features', 1, 'transforms', 1, 'std'], 11],
    ['an impute value', ['features', 0, 'transforms', 0, 'value'], 26],
    ['a min', ['features', 2, 'transforms', 0, 'min'], 9],
    ['a quantile boundary', ['features', 5, 'transforms', 0, 'boundaries', 1], 24],
    ['a category list', ['features', 7, 'transforms', 1, 'categories'], ['fuel', 'grocery', 'travel']],
    ['the row count', ['rowCount'], 6],
    ['the spec version', ['spec', 'version'], 4],
    ['the spec name', ['spec', 'name'], 'card-txn-2'],
    ['an entity key', ['spec', 'entityKeys', 0], 'account_id'],
    ['a feature ttl', ['spec', 'features', 13, 'ttlSeconds'], 3600],
    ['a source field', ['spec', 'features', 0, 'source', 'field'], 'amt'],
    ['a transform option', ['spec', 'features', 7, 'transforms', 1, 'topK'], 3],
    ['a hash bucket count', ['spec', 'features', 8, 'transforms', 0, 'buckets'], 9],
  ])('changes when %s changes', (_label, path, value) => {
    expect(rehashed(path, value)).not.toBe(fitted.contentHash);
  });

  it('changes when the training data changes a statistic', () => {
    const other = fit(goldenSpec, [...goldenRows.slice(0, 4), { ...goldenRows[4], amount: 31 }]);
    expect(other.contentHash).not.toBe(fitted.contentHash);
  });
});

describe('serializeFitted / parseFitted', () => {
  it('round-trips to an identical, frozen set that transforms to the same bits', () => {
    const text = serializeFitted(fitted);
    const parsed = parseFitted(text);
    expect(parsed).toEqual(fitted);
    expect(Object.isFrozen(parsed.features[0]!.transforms)).toBe(true);
    expect(serializeFitted(parsed)).toBe(text);
    expect(bits(transform(parsed, goldenRows).matrix)).toEqual(bits(transform(fitted, goldenRows).matrix));
    expect(parseFitted(new TextEncoder().encode(text)).contentHash).toBe(fitted.contentHash);
  });

  it('rejects a tampered statistic with FailedPreconditionError', () => {
    const tampered = serializeFitted(fitted).replace('"std":10', '"std":11');
    expect(() => parseFitted(tampered)).toThrow(FailedPreconditionError);
    expect(() => parseFitted(tampered)).toThrow(/content hash .* does not match its content/);
  });

  it('rejects a tampered hash with FailedPreconditionError', () => {
    const tampered = serializeFitted(fitted).replace(fitted.contentHash, '0'.repeat(64));
    expect(() => parseFitted(tampered)).toThrow(FailedPreconditionError);
  });

  it('rejects statistics that contradict the spec even when rehashed', () => {
    const copy = edited(['columns', 0], 'renamed');
    copy.contentHash = computeContentHash(copy as unknown as FittedFeatureSet);
    expect(() => parseFitted(JSON.stringify(copy))).toThrow(/inconsistent: the column list does not match/);
  });

  it('rejects text that is not a fitted set with InvalidArgumentError naming the field', () => {
    expect(() => parseFitted('{')).toThrow(InvalidArgumentError);
    const copy = edited(['features', 1, 'transforms', 1, 'std'], undefined);
    expect(() => parseFitted(JSON.stringify(copy))).toThrow(/features\[1\]\.transforms\[1\]\.std/);
  });
});
