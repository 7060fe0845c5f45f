import { FailedPreconditionError, InvalidArgumentError } from '@slipway/errors';
import { describe, expect, it } from 'vitest';
import {
  binIndex,
  buildProfile,
  decodeProfile,
  encodeProfile,
  fit,
  PROFILE_QUANTILES,
  transform,
  type FeatureSetSpec,
} from './index.js';
import { goldenRows, goldenSpec } from './test-support/golden.js';

const spec: FeatureSetSpec = {
  name: 'p',
  version: 2,
  entityKeys: ['id'],
  features: [
    { name: 'x', source: { field: 'x' }, kind: 'numeric', transforms: [] },
    { name: 'c', source: { field: 'c' }, kind: 'categorical', transforms: [{ type: 'one-hot' }] },
  ],
};
// x = 1 … 100 with every tenth row missing; c = a (60 rows), b (30), missing (10).
const rows = Array.from({ length: 100 }, (_, i) => ({
  x: i % 10 === 9 ? null : i + 1,
  c: i % 10 === 0 ? null : i % 3 === 0 ? 'b' : 'a',
}));
const fitted = fit(spec, rows);
const result = transform(fitted, rows);

describe('reference profile', () => {
  const predictions = Float64Array.from({ length: 100 }, (_, i) => i / 100);
  const profile = buildProfile(fitted, result, predictions);

  it('profiles numeric columns over present rows with decile-edged histograms', () => {
    const x = profile.features[0]!;
    expect(x.missingRate).toBe(0.1);
    expect(x.numeric!.count).toBe(90);
    expect(x.numeric!.mean).toBe(rows.reduce((s, r) => s + (r.x ?? 0), 0) / 90);
    expect(x.numeric!.quantiles).toHaveLength(PROFILE_QUANTILES.length);
    expect(x.numeric!.quantiles[0]).toBe(1);
    expect(x.numeric!.quantiles[10]).toBe(99);
    const { edges, counts } = x.numeric!.histogram;
    expect(edges).toHaveLength(9);
    expect(counts.reduce((a, b) => a + b)).toBe(90);
    // Decile edges make every bin hold about a tenth of the training rows.
    for (const n of counts) expect(n).toBeGreaterThanOrEqual(8);
    for (const n of counts) expect(n).toBeLessThanOrEqual(10);
    expect(binIndex(edges, -1e9)).toBe(0);
    expect(binIndex(edges, 1e9)).toBe(9);
  });

  it('profiles categories per column including the unknown bucket', () => {
    const c = profile.features[1]!;
    expect(c.missingRate).toBe(0.1);
    expect(c.categories).toEqual([
      { category: 'a', column: 'c=a', count: 60, frequency: 60 / 90 },
      { category: 'b', column: 'c=b', count: 30, frequency: 30 / 90 },
      { category: '__unknown__', column: 'c=__unknown__', count: 0, frequency: 0 },
    ]);
  });

  it('includes a prediction histogram and identifies the feature set', () => {
    expect(profile.prediction!.count).toBe(100);
    expect(profile.prediction!.histogram.counts.reduce((a, b) => a + b)).toBe(100);
    expect(profile.featureSet).toEqual({ name: 'p', version: 2, contentHash: fitted.contentHash });
    expect(profile.version).toBe(1);
  });

  it('round-trips through bytes', () => {
    const bytes = encodeProfile(profile);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(decodeProfile(bytes)).toEqual(JSON.parse(JSON.stringify(profile)));
    expect(encodeProfile(decodeProfile(bytes))).toEqual(bytes);
  });

  it('refuses other versions and malformed bytes', () => {
    const json = JSON.parse(new TextDecoder().decode(encodeProfile(profile))) as Record<string, unknown>;
    expect(() => decodeProfile(JSON.stringify({ ...json, version: 2 }))).toThrow(FailedPreconditionError);
    expect(() => decodeProfile(JSON.stringify({ ...json, rowCount: -1 }))).toThrow(/rowCount/);
    expect(() => decodeProfile('not json')).toThrow(InvalidArgumentError);
  });

  it('accepts a bare matrix (no missing rates) and checks shapes', () => {
    const bare = buildProfile(fitted, result.matrix);
    expect(bare.features[0]!.missingRate).toBeNull();
    expect(bare.features[0]!.numeric!.count).toBe(100);
    expect(() => buildProfile(fitted, result.matrix.subarray(1))).toThrow(/not rows × 4 columns/);
    expect(() => buildProfile(fitted, result, [1])).toThrow(/1 predictions for 100 rows/);
  });

  it('profiles the golden set end to end', () => {
    const golden = fit(goldenSpec, goldenRows);
    const p = buildProfile(golden, transform(golden, goldenRows));
    expect(p.features.map((f) => f.missingRate)).toEqual([
      0, 0, 0.2, 0.2, 0.2, 0.2, 0, 0, 0.2, 0, 0, 0.2, 0.2, 0.2, 0,
    ]);
    expect(decodeProfile(encodeProfile(p)).rowCount).toBe(5);
  });
});
