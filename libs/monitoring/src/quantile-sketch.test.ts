import { InvalidArgumentError } from '@slipway/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createQuantileSketch, deserializeQuantileSketch, type QuantileSketch } from './index.js';
import { createRandom } from './test-support/random.js';

/** Seeded so a failure reproduces; fast-check prints the counterexample and path. */
const RUNS = { seed: 0xdd5, numRuns: 200 } as const;

const QS = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

// The value of rank ⌊q·(n − 1)⌋, which the sketch promises within relative error α.
function exactQuantile(sorted: Float64Array, q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function expectAccurate(sketch: QuantileSketch, values: ArrayLike<number>, alpha: number): void {
  const sorted = Float64Array.from(values).sort();
  for (const q of QS) {
    const exact = exactQuantile(sorted, q);
    const estimate = sketch.quantile(q)!;
    expect(Math.abs(estimate - exact), `q=${q}: ${estimate} vs ${exact}`).toBeLessThanOrEqual(
      alpha * Math.abs(exact) + 1e-12,
    );
  }
}

function latencies(seed: number, n: number): Float64Array {
  const random = createRandom(seed);
  // Lognormal latencies: median e^3 ≈ 20 ms, p99 ≈ 200 ms.
  return Float64Array.from({ length: n }, () => random.lognormal(3, 1));
}

describe('quantile sketch (DDSketch)', () => {
  it('answers every quantile of lognormal latencies within the relative accuracy', () => {
    for (const alpha of [0.01, 0.02, 0.05]) {
      const values = latencies(7, 50_000);
      const sketch = createQuantileSketch({ relativeAccuracy: alpha });
      for (const v of values) sketch.add(v);
      expect(sketch.count).toBe(values.length);
      expectAccurate(sketch, values, alpha);
      expect(sketch.min).toBe(Math.min(...values));
      expect(sketch.max).toBe(Math.max(...values));
      expect(sketch.sum).toBeCloseTo(
        values.reduce((a, b) => a + b, 0),
        6,
      );
    }
  });

  it('keeps the guarantee for any values, accuracy and split into merged parts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0.001, max: 0.1, noNaN: true }),
        fc.nat(),
        (values, alpha, split) => {
          // Enough buckets that nothing collapses (values span 1e-300 to 1e9).
          const options = { relativeAccuracy: alpha, maxBuckets: 1 << 20 };
          const left = createQuantileSketch(options);
          const right = createQuantileSketch(options);
          const cut = split % (values.length + 1);
          values.forEach((v, i) => (i < cut ? left : right).add(v));
          left.merge(right);
          expectAccurate(left, values, alpha);
        },
      ),
      RUNS,
    );
  });

  it('handles zeros and negative values', () => {
    const random = createRandom(11);
    const values = Float64Array.from({ length: 20_000 }, (_, i) => (i % 10 === 0 ? 0 : random.normal(0, 50)));
    const sketch = createQuantileSketch();
    for (const v of values) sketch.add(v);
    expectAccurate(sketch, values, 0.01);
  });

  it('merging per-minute sketches equals one sketch of the union', () => {
    const minutes = Array.from({ length: 30 }, (_, m) => latencies(100 + m, 500 + 37 * m));
    const whole = createQuantileSketch();
    const merged = createQuantileSketch();
    for (const minute of minutes) {
      const part = createQuantileSketch();
      for (const v of minute) {
        part.add(v);
        whole.add(v);
      }
      // Persisted and read back, as the monitor does.
      merged.merge(deserializeQuantileSketch(part.serialize()));
    }
    expect(merged.count).toBe(whole.count);
    expect(merged.min).toBe(whole.min);
    expect(merged.max).toBe(whole.max);
    expect(merged.sum).toBeCloseTo(whole.sum, 6);
    for (const q of QS) expect(merged.quantile(q)).toBe(whole.quantile(q));
    expect({ ...merged.toJSON(), sum: 0 }).toEqual({ ...whole.toJSON(), sum: 0 });
    const all = new Float64Array(minutes.flatMap((m) => [...m]));
    expectAccurate(merged, all, 0.01);
  });

  it('merge leaves the other sketch unchanged and merging an empty sketch is a no-op', () => {
    const a = createQuantileSketch();
    const b = createQuantileSketch();
    for (const v of latencies(3, 1000)) b.add(v);
    const before = b.toJSON();
    a.merge(b);
    expect(b.toJSON()).toEqual(before);
    a.merge(createQuantileSketch());
    expect(a.toJSON()).toEqual(before);
  });

  it('round-trips through bytes and JSON compactly', () => {
    const sketch = createQuantileSketch();
    for (const v of latencies(5, 100_000)) sketch.add(v);
    sketch.add(0, 3);
    sketch.add(-2.5);
    const bytes = sketch.serialize();
    expect(bytes.length).toBeLessThan(2_000);
    const fromBytes = deserializeQuantileSketch(bytes);
    const fromJson = deserializeQuantileSketch(JSON.parse(JSON.stringify(sketch)));
    for (const copy of [fromBytes, fromJson, sketch.copy()]) {
      expect(copy.toJSON()).toEqual(sketch.toJSON());
      expect(copy.serialize()).toEqual(bytes);
    }
    const empty = createQuantileSketch({ relativeAccuracy: 0.02 });
    const emptyCopy = deserializeQuantileSketch(empty.serialize());
    expect(emptyCopy.count).toBe(0);
    expect(emptyCopy.relativeAccuracy).toBe(0.02);
    expect(emptyCopy.quantile(0.5)).toBeUndefined();
    expect(emptyCopy.min).toBeUndefined();
  });

  it('rejects corrupt or foreign serializations', () => {
    const sketch = createQuantileSketch();
    sketch.add(12);
    const bytes = sketch.serialize();
    expect(() => deserializeQuantileSketch(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
    expect(() => deserializeQuantileSketch(Uint8Array.from([9, ...bytes.subarray(1)]))).toThrow(/format 9/);
    expect(() => deserializeQuantileSketch(Uint8Array.from([...bytes, 0]))).toThrow(/trailing/);
    const json = sketch.toJSON();
    expect(() => deserializeQuantileSketch({ ...json, count: 2 })).toThrow(InvalidArgumentError);
    expect(() => deserializeQuantileSketch({ ...json, min: null })).toThrow(/min and max/);
    expect(() => deserializeQuantileSketch({ ...json, relativeAccuracy: 2 })).toThrow(/relativeAccuracy/);
  });

  it('keeps high quantiles exact to α when the bucket limit collapses the lowest buckets', () => {
    // 300 buckets at α = 0.01 span a ratio of e^6 ≈ 400: from the max (≈ 1.5 s) down to ≈ 4 ms.
    const sketch = createQuantileSketch({ maxBuckets: 300 });
    const values = latencies(9, 20_000);
    for (const v of values) sketch.add(v);
    expect(sketch.toJSON().positive.counts.length).toBe(300);
    const sorted = Float64Array.from(values).sort();
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(sketch.quantile(q)! - exact)).toBeLessThanOrEqual(0.01 * exact);
    }
    expect(sketch.count).toBe(values.length);
  });

  it('refuses bad input with a message that names the fix', () => {
    const sketch = createQuantileSketch();
    expect(() => sketch.add(NaN)).toThrow(/finite/);
    expect(() => sketch.add(1, 0.5)).toThrow(/positive integer/);
    expect(() => sketch.quantile(1.5)).toThrow(/\[0, 1\]/);
    expect(() => createQuantileSketch({ relativeAccuracy: 0 })).toThrow(/0\.01 is 1 %/);
    expect(() => sketch.merge(createQuantileSketch({ relativeAccuracy: 0.02 }))).toThrow(
      /same relativeAccuracy/,
    );
  });
});
