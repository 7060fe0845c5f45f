import { describe, expect, it } from 'vitest';
import {
  normalQuantile,
  sampleSizeTwoProportions,
  summarize,
  twoProportionZTest,
  welchTTest,
} from './index.js';
import { createRandom } from './test-support/random.js';

describe('twoProportionZTest', () => {
  it('computes the difference, unpooled interval and pooled z by hand', () => {
    const result = twoProportionZTest({ successes: 200, trials: 2000 }, { successes: 240, trials: 2000 });
    expect(result.controlRate).toBe(0.1);
    expect(result.treatmentRate).toBe(0.12);
    expect(result.difference).toBeCloseTo(0.02, 15);
    expect(result.relativeLift).toBeCloseTo(0.2, 12);
    const unpooled = Math.sqrt((0.1 * 0.9) / 2000 + (0.12 * 0.88) / 2000);
    expect(result.standardError).toBeCloseTo(unpooled, 15);
    expect(result.confidenceInterval[0]).toBeCloseTo(0.02 - 1.959963984540054 * unpooled, 12);
    expect(result.confidenceInterval[1]).toBeCloseTo(0.02 + 1.959963984540054 * unpooled, 12);
    const pooled = Math.sqrt(0.11 * 0.89 * (2 / 2000));
    expect(result.z).toBeCloseTo(0.02 / pooled, 12);
    // z = 2.0213366465314055; SciPy: 2 · norm.sf(z) = 0.04324492804302163.
    expect(result.pValue).toBeCloseTo(0.04324492804302163, 14);
  });

  it('covers a known 2-point lift with its 95 % interval in about 95 % of experiments', () => {
    const random = createRandom(2024);
    const runs = 200;
    let covered = 0;
    for (let k = 0; k < runs; k++) {
      const control = { successes: random.binomial(10_000, 0.1), trials: 10_000 };
      const treatment = { successes: random.binomial(10_000, 0.12), trials: 10_000 };
      const [lo, hi] = twoProportionZTest(control, treatment).confidenceInterval;
      if (lo <= 0.02 && 0.02 <= hi) covered++;
    }
    // Binomial(200, 0.95): 99.9 % of runs land in [180, 198].
    expect(covered).toBeGreaterThanOrEqual(180);
    expect(covered).toBeLessThanOrEqual(198);
    const one = twoProportionZTest({ successes: 1000, trials: 10_000 }, { successes: 1200, trials: 10_000 });
    expect(one.confidenceInterval[0]).toBeLessThan(0.02);
    expect(one.confidenceInterval[1]).toBeGreaterThan(0.02);
    expect(one.pValue).toBeLessThan(1e-4);
  });

  it('finds about 5 % of experiments significant at 0.05 when there is no lift', () => {
    const random = createRandom(7);
    const runs = 200;
    let significant = 0;
    for (let k = 0; k < runs; k++) {
      const control = { successes: random.binomial(5000, 0.1), trials: 5000 };
      const treatment = { successes: random.binomial(5000, 0.1), trials: 5000 };
      if (twoProportionZTest(control, treatment).pValue < 0.05) significant++;
    }
    // Binomial(200, 0.05) has mean 10; [2, 20] holds 99.7 % of it.
    expect(significant / runs).toBeGreaterThanOrEqual(0.01);
    expect(significant / runs).toBeLessThanOrEqual(0.1);
  });

  it('has no variance to test when both rates are 0, and checks its input', () => {
    expect(twoProportionZTest({ successes: 0, trials: 10 }, { successes: 0, trials: 10 })).toMatchObject({
      z: 0,
      pValue: 1,
      relativeLift: null,
    });
    expect(() => twoProportionZTest({ successes: 11, trials: 10 }, { successes: 0, trials: 10 })).toThrow(
      /control: successes/,
    );
    expect(() =>
      twoProportionZTest({ successes: 1, trials: 10 }, { successes: 1, trials: 10 }, { confidence: 95 }),
    ).toThrow(/0\.95 is 95 %/);
  });
});

describe('welchTTest', () => {
  it('matches SciPy on equal sizes', () => {
    // SciPy 1.17.1 ttest_ind(a, b, equal_var=False): t = −2.455356398286006, df = 24.988529290231416,
    // p = 0.021378001462866992, 95 % CI (a − b) = [−3.984096267140929, −0.3492370661924069].
    const a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
    const b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
    const result = welchTTest(a, b);
    expect(result.t).toBeCloseTo(2.455356398286006, 10); // treatment − control, so the sign flips
    expect(result.degreesOfFreedom).toBeCloseTo(24.988529290231416, 10);
    expect(result.pValue).toBeCloseTo(0.021378001462866992, 12);
    expect(result.confidenceInterval[0]).toBeCloseTo(0.3492370661924069, 10);
    expect(result.confidenceInterval[1]).toBeCloseTo(3.984096267140929, 10);
  });

  it('matches SciPy on unequal sizes and variances, from summaries too', () => {
    // SciPy: t = −1.5654335235985037, df = 9.904741248650831, p = 0.14884169660532817,
    // CI (a − b) = [−3.698421325375163, 0.6484213253751658].
    const a = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8];
    const b = [
      21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5,
      23.5, 21.5, 21.8,
    ];
    const result = welchTTest(summarize(a), summarize(b));
    expect(result.t).toBeCloseTo(1.5654335235985037, 10);
    expect(result.degreesOfFreedom).toBeCloseTo(9.904741248650831, 10);
    expect(result.pValue).toBeCloseTo(0.14884169660532817, 12);
    expect(result.confidenceInterval[0]).toBeCloseTo(-0.6484213253751658, 10);
    expect(result.confidenceInterval[1]).toBeCloseTo(3.698421325375163, 10);
  });

  it('handles zero variance and refuses arms of fewer than two values', () => {
    expect(welchTTest([1, 1, 1], [2, 2])).toMatchObject({ t: Infinity, pValue: 0, difference: 1 });
    expect(welchTTest([1, 1], [1, 1])).toMatchObject({ t: 0, pValue: 1 });
    expect(() => welchTTest([1], [1, 2])).toThrow(/control: .* at least 2 values/);
    expect(summarize([2, 4, 6])).toEqual({ count: 3, mean: 4, variance: 4 });
  });
});

describe('sampleSizeTwoProportions', () => {
  it('matches the textbook formula on a worked example (10 % → 12 %, α 0.05, power 0.8)', () => {
    // n = (1.959964·√(2·0.11·0.89) + 0.841621·√(0.1·0.9 + 0.12·0.88))² / 0.02²
    //   = (0.867270 + 0.372221)² / 0.0004 = 1.536339 / 0.0004 = 3840.85 → 3841 per arm.
    const za = normalQuantile(0.975);
    const zb = normalQuantile(0.8);
    const exact =
      (za * Math.sqrt(2 * 0.11 * 0.89) + zb * Math.sqrt(0.1 * 0.9 + 0.12 * 0.88)) ** 2 / 0.02 ** 2;
    expect(exact).toBeCloseTo(3840.85, 2);
    expect(sampleSizeTwoProportions({ baselineRate: 0.1, minimumDetectableEffect: 0.02 })).toBe(3841);
  });

  it('grows with power and shrinks with the effect; a decrease needs the same as its mirror', () => {
    const base = { baselineRate: 0.1, minimumDetectableEffect: 0.02 };
    expect(sampleSizeTwoProportions({ ...base, power: 0.9 })).toBeGreaterThan(3841);
    // (0.900731 + 0.386046)² / 0.04² = 1034.87: twice the effect, about a quarter of the rows.
    expect(sampleSizeTwoProportions({ ...base, minimumDetectableEffect: 0.04 })).toBe(1035);
    expect(sampleSizeTwoProportions({ baselineRate: 0.12, minimumDetectableEffect: -0.02 })).toBe(3841);
    expect(() => sampleSizeTwoProportions({ baselineRate: 0.99, minimumDetectableEffect: 0.02 })).toThrow(
      /1\.01 must lie in \(0, 1\)/,
    );
  });

  it('gives experiments the power it promises', () => {
    const n = sampleSizeTwoProportions({ baselineRate: 0.1, minimumDetectableEffect: 0.02 });
    const random = createRandom(99);
    let detected = 0;
    for (let k = 0; k < 200; k++) {
      const control = { successes: random.binomial(n, 0.1), trials: n };
      const treatment = { successes: random.binomial(n, 0.12), trials: n };
      if (twoProportionZTest(control, treatment).pValue < 0.05) detected++;
    }
    // Binomial(200, 0.8): [145, 175] holds 99.9 % of it.
    expect(detected).toBeGreaterThanOrEqual(145);
    expect(detected).toBeLessThanOrEqual(175);
  });
});
