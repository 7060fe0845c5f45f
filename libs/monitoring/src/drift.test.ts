import { InvalidArgumentError } from '@slipway/errors';
import {
  buildProfile,
  decodeProfile,
  encodeProfile,
  fit,
  transform,
  type FeatureSetSpec,
  type ReferenceProfile,
} from '@slipway/features';
import { describe, expect, it } from 'vitest';
import {
  chiSquareHomogeneity,
  detectDrift,
  driftColumnsFromVectors,
  jensenShannonDistance,
  kolmogorovSmirnovAgainstProfile,
  populationStabilityIndex,
  type DriftWindow,
} from './index.js';
import { createRandom } from './test-support/random.js';

const spec: FeatureSetSpec = {
  name: 'payments',
  version: 3,
  entityKeys: ['id'],
  features: [
    { name: 'amount', source: { field: 'amount' }, kind: 'numeric', transforms: [] },
    { name: 'latency', source: { field: 'latency' }, kind: 'numeric', transforms: [] },
    { name: 'score', source: { field: 'score' }, kind: 'numeric', transforms: [] },
    { name: 'color', source: { field: 'color' }, kind: 'categorical', transforms: [{ type: 'one-hot' }] },
  ],
};

interface Shift {
  readonly amountMean?: number;
  readonly colors?: readonly [number, number];
}
type PaymentRow = { amount: number; latency: number; score: number; color: string };

// amount ~ N(10, 2), latency ~ lognormal(0, 0.5), score ~ U(0, 100), color red/green/blue 50/30/20.
function rows(seed: number, n: number, shift: Shift = {}): PaymentRow[] {
  const random = createRandom(seed);
  const [red, green] = shift.colors ?? [0.5, 0.8];
  return Array.from({ length: n }, () => {
    const u = random.uniform();
    return {
      amount: random.normal(shift.amountMean ?? 10, 2),
      latency: random.lognormal(0, 0.5),
      score: random.uniform() * 100,
      color: u < red ? 'red' : u < green ? 'green' : 'blue',
    };
  });
}

const predict = (row: PaymentRow): number =>
  1 / (1 + Math.exp(-(row.amount - 10) / 2 - (row.score - 50) / 50));

const training = rows(1, 10_000);
const fitted = fit(spec, training);
// Through the bytes the registry stores, as the monitor will read it.
const profile: ReferenceProfile = decodeProfile(
  encodeProfile(buildProfile(fitted, transform(fitted, training), training.map(predict))),
);
const amount = profile.features[0]!.numeric!;

// A window as the monitor sees it: the router's feature vectors and the model's scores.
function window(data: PaymentRow[], scores = data.map(predict)): DriftWindow {
  const { matrix } = transform(fitted, data);
  const width = fitted.columns.length;
  const vectors = data.map((_, i) => matrix.subarray(i * width, (i + 1) * width));
  return { features: driftColumnsFromVectors(profile, vectors), prediction: scores };
}

describe('detectDrift against a profile built by @slipway/features', () => {
  it('raises no drift in 20 windows of 1,000 rows from the training distribution', () => {
    for (let w = 0; w < 20; w++) {
      const report = detectDrift(profile, window(rows(1000 + w, 1000)));
      expect(report.features.map((f) => f.name)).toEqual(['amount', 'latency', 'score', 'color']);
      expect(report.drifted, `window ${w}`).toBe(false);
      expect(report.driftedFeatures).toEqual([]);
      expect(report.prediction!.drifted).toBe(false);
      for (const f of [...report.features, report.prediction!]) {
        expect(f.sampleSize).toBe(1000);
        expect(f.distance!).toBeLessThan(f.threshold / 2);
      }
    }
  });

  it('flags a 0.5σ shift of one feature, and only that feature', () => {
    // Half a reference standard deviation: PSI ≈ 0.22 on this profile's decile bins, well above
    // the 0.1 threshold whatever the sampling noise (sd ≈ 0.025 at 1,000 rows); KS is
    // significant in all.
    let flagged = 0;
    for (let w = 0; w < 20; w++) {
      const data = rows(5000 + w, 1000, { amountMean: amount.mean! + 0.5 * amount.std! });
      const report = detectDrift(profile, window(data));
      const shifted = report.features[0]!;
      expect(shifted.method).toBe('kolmogorov-smirnov');
      expect(shifted.adjustedPValue!).toBeLessThan(1e-15);
      expect(shifted.distance!).toBeGreaterThan(0.15);
      if (shifted.drifted === true) flagged++;
      expect(report.driftedFeatures.filter((name) => name !== 'amount')).toEqual([]);
    }
    expect(flagged).toBe(20);
  });

  it('flags a shift of 0.75σ in every window', () => {
    for (let w = 0; w < 5; w++) {
      const data = rows(6000 + w, 1000, { amountMean: amount.mean! + 0.75 * amount.std! });
      const report = detectDrift(profile, window(data));
      expect(report.driftedFeatures).toEqual(['amount']);
      expect(report.driftedShare).toBe(1 / 4);
    }
  });

  it('flags a change of category shares by chi-square and Jensen–Shannon', () => {
    const report = detectDrift(profile, window(rows(7000, 1000, { colors: [0.25, 0.55] })));
    const color = report.features[3]!;
    expect(color).toMatchObject({ method: 'chi-square', distanceMethod: 'jensen-shannon', drifted: true });
    expect(color.degreesOfFreedom).toBe(2); // red, green, blue; the unknown bucket is empty on both sides
    expect(report.driftedFeatures).toEqual(['color']);
  });

  it('flags prediction drift from the scores alone', () => {
    const data = rows(7100, 1000);
    const report = detectDrift(
      profile,
      window(
        data,
        data.map((r) => predict(r) ** 0.5),
      ),
    );
    expect(report.driftedFeatures).toEqual([]);
    expect(report.prediction).toMatchObject({ name: 'prediction', target: 'prediction', drifted: true });
    expect(report.drifted).toBe(true);
  });

  it("reports 'insufficient' below minSamples and leaves those features out of the correction", () => {
    const report = detectDrift(profile, window(rows(8000, 20)));
    for (const f of [...report.features, report.prediction!]) {
      expect(f.drifted).toBe('insufficient');
      expect(f.sampleSize).toBe(20);
      expect(f.pValue).not.toBeNull();
      expect(f.adjustedPValue).toBeNull();
    }
    expect(report.insufficientFeatures).toEqual(['amount', 'latency', 'score', 'color']);
    expect(report).toMatchObject({ drifted: false, driftedShare: 0 });
    // Even a gross shift in 20 rows is not a verdict.
    const shifted = detectDrift(profile, window(rows(8001, 20, { amountMean: 30 })));
    expect(shifted.features[0]!.drifted).toBe('insufficient');
    expect(detectDrift(profile, window(rows(8001, 20)), { minSamples: 10 }).features[0]!.drifted).toBe(false);
  });

  it('counts missing values apart from the distribution', () => {
    const values = Float64Array.from(rows(8100, 400), (r) => r.amount);
    for (let i = 0; i < 100; i++) values[i * 4] = NaN;
    const [f] = detectDrift(profile, { features: { amount: values } }).features;
    expect(f).toMatchObject({ sampleSize: 300, missingRate: 0.25, drifted: false });
    const [c] = detectDrift(profile, {
      features: { color: { counts: { red: 60, green: 20, blue: 20 }, missing: 25 } },
    }).features;
    expect(c).toMatchObject({ sampleSize: 100, missingRate: 0.2, referenceSize: 10_000 });
  });

  it('applies the rule and correction that are asked for', () => {
    const data = window(rows(8200, 1000, { amountMean: amount.mean! + 0.2 * amount.std! }));
    const both = detectDrift(profile, data);
    const testOnly = detectDrift(profile, data, { rule: 'test' });
    const distanceOnly = detectDrift(profile, data, { rule: 'distance' });
    // 0.2σ: certainly not chance at 1,000 rows, but far below PSI 0.2.
    expect(both.features[0]!.drifted).toBe(false);
    expect(testOnly.features[0]!.drifted).toBe(true);
    expect(distanceOnly.features[0]!.drifted).toBe(false);
    const bonferroni = detectDrift(profile, data, { correction: 'bonferroni' });
    for (const f of bonferroni.features) expect(f.adjustedPValue).toBe(Math.min(1, f.pValue! * 5));
    const none = detectDrift(profile, data, { correction: 'none' });
    for (const f of none.features) expect(f.adjustedPValue).toBe(f.pValue);
    expect(none.options).toEqual({ ...both.options, correction: 'none' });
  });

  it('tests binned features by chi-square on the histogram bins', () => {
    const data = window(rows(8300, 1000));
    const [f] = detectDrift(
      profile,
      { features: { score: data.features.score! } },
      { binnedFeatures: ['score'] },
    ).features;
    expect(f).toMatchObject({
      method: 'chi-square',
      degreesOfFreedom: 9,
      distanceMethod: 'psi',
      drifted: false,
    });
  });

  it('refuses windows that do not fit the profile, naming the fix', () => {
    expect(() => detectDrift(profile, { features: { amont: [1] } })).toThrow(/not in the profile.*amont/);
    expect(() => detectDrift(profile, { features: { color: [1, 0, 0] } })).toThrow(/pass \{ counts \}/);
    expect(() => detectDrift(profile, { features: { amount: { counts: [1] } } })).toThrow(/pass its values/);
    expect(() => detectDrift(profile, { features: { color: { counts: { purple: 3 } } } })).toThrow(
      /no category "purple" \(categories: blue, green, red, __unknown__\)/,
    );
    expect(() => detectDrift(profile, { features: { color: { counts: [1, 2] } } })).toThrow(/4 categories/);
    const { prediction: _, ...noPrediction } = profile;
    expect(() => detectDrift(noPrediction, { features: {}, prediction: [0.5] })).toThrow(/no prediction/);
    expect(() => detectDrift(profile, { features: {} }, { alpha: 2, minSamples: 0 })).toThrow(
      /alpha must lie in \(0, 1\).*minSamples must be an integer/,
    );
    expect(() => driftColumnsFromVectors(profile, [[1, 2]])).toThrow(/feature_set_hash/);
    expect(() => detectDrift(profile, { features: {} })).not.toThrow(InvalidArgumentError);
  });

  it('splits feature vectors into columns, skipping empty vectors and counting unset one-hots as missing', () => {
    const columns = driftColumnsFromVectors(profile, [[1, 2, 3, 0, 0, 1, 0], [], [4, 5, 6, 0, 0, 0, 0]]);
    expect(Array.from(columns.amount as Float64Array)).toEqual([1, 4]);
    expect(columns.color).toEqual({ counts: [0, 0, 1, 0], missing: 1 });
  });
});

describe('drift statistics', () => {
  it('PSI: hand-computed value, epsilon for empty bins', () => {
    const expected = [10, 10, 10, 10, 10, 10, 10, 10, 10, 10];
    const actual = [5, 5, 10, 10, 10, 10, 10, 10, 15, 15];
    // 2·(0.05·ln 2) + 2·(0.05·ln 1.5) = 0.1·ln 3
    expect(populationStabilityIndex(expected, actual)).toBeCloseTo(0.1 * Math.log(3), 12);
    expect(populationStabilityIndex(expected, expected)).toBe(0);
    // An empty reference bin counts as a share of 1e-4.
    expect(populationStabilityIndex([1, 0], [1, 1])).toBeCloseTo(
      (0.5 - 1) * Math.log(0.5) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4),
      12,
    );
    expect(() => populationStabilityIndex([1], [1, 2])).toThrow(/same bins/);
  });

  it('Jensen–Shannon distance and chi-square homogeneity match SciPy', () => {
    // scipy.spatial.distance.jensenshannon(p, q, base=2)
    expect(jensenShannonDistance([0.5, 0.3, 0.2, 0], [0.43, 0.33, 0.22, 0.02])).toBeCloseTo(
      0.11296545678943559,
      12,
    );
    expect(jensenShannonDistance([1, 0], [0, 1])).toBe(1);
    // scipy.stats.chi2_contingency([[500, 300, 200, 0], [430, 330, 220, 20]], correction=False)
    const test = chiSquareHomogeneity([500, 300, 200, 0], [430, 330, 220, 20]);
    expect(test.statistic).toBeCloseTo(27.649769585253456, 9);
    expect(test.degreesOfFreedom).toBe(3);
    expect(test.pValue).toBeCloseTo(4.301763594092186e-6, 15);
    expect(chiSquareHomogeneity([5, 0], [7, 0])).toEqual({ statistic: 0, degreesOfFreedom: 0, pValue: 1 });
  });

  it('KS against a profile: exact at the quantiles, a step at tied quantiles', () => {
    const probabilities = [0, 0.25, 0.5, 0.75, 1];
    const reference = {
      count: 1000,
      mean: 1,
      std: 0.58,
      quantiles: [0, 0.5, 1, 1.5, 2],
      histogram: { edges: [0.5, 1, 1.5], counts: [250, 250, 250, 250] },
    };
    // Uniform on [0, 2] matches the piecewise-linear CDF; the statistic is the sample's own noise.
    const uniform = Float64Array.from({ length: 1000 }, (_, i) => (2 * (i + 0.5)) / 1000);
    expect(kolmogorovSmirnovAgainstProfile(reference, probabilities, uniform).statistic).toBeCloseTo(
      0.0005,
      12,
    );
    // Everything at 3, above the maximum: D = 1.
    const above = kolmogorovSmirnovAgainstProfile(reference, probabilities, [3, 3, 3]);
    expect(above.statistic).toBe(1);
    expect(above.effectiveSize).toBeCloseTo((3 * 1000) / 1003, 12);
    // A constant reference is a step: a sample at that value matches it exactly.
    const constant = { ...reference, quantiles: [5, 5, 5, 5, 5] };
    expect(kolmogorovSmirnovAgainstProfile(constant, probabilities, [5, 5, NaN]).statistic).toBe(0);
    expect(kolmogorovSmirnovAgainstProfile(constant, probabilities, [4, 5]).statistic).toBe(0.5);
    expect(() => kolmogorovSmirnovAgainstProfile(reference, probabilities, [NaN])).toThrow(/no values/);
  });

  it('KS keeps its false-alarm rate near α against a profiled normal reference', () => {
    // 400 windows of 1,000 values, each against its own 10,000-row reference: p < 0.05 in about
    // 5 % (binomial band 2.5 %–8 %). A straight line through the tails instead rejects nearly all.
    const probabilities = Array.from({ length: 11 }, (_, k) => k / 10);
    let rejections = 0;
    for (let t = 0; t < 400; t++) {
      const random = createRandom(90_000 + t);
      const ref = Float64Array.from({ length: 10_000 }, () => random.normal()).sort();
      const quantiles = probabilities.map((p) => {
        const h = (ref.length - 1) * p;
        const lo = Math.floor(h);
        return lo >= ref.length - 1 ? ref[lo]! : ref[lo]! + (h - lo) * (ref[lo + 1]! - ref[lo]!);
      });
      const reference = {
        count: 10_000,
        mean: 0,
        std: 1,
        quantiles,
        histogram: { edges: [], counts: [10_000] },
      };
      const sample = Float64Array.from({ length: 1000 }, () => random.normal());
      if (kolmogorovSmirnovAgainstProfile(reference, probabilities, sample).pValue < 0.05) rejections++;
    }
    expect(rejections / 400).toBeGreaterThanOrEqual(0.025);
    expect(rejections / 400).toBeLessThanOrEqual(0.08);
  });
});
