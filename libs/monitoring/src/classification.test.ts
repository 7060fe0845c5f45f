import { describe, expect, it } from 'vitest';
import { classificationMetrics, rocAuc } from './index.js';
import { createRandom } from './test-support/random.js';

// P(score of a positive > score of a negative) + ½·P(tie), over every pair.
function bruteForceAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i]! > scores[j]!) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

describe('rocAuc', () => {
  it('matches the brute-force pairwise AUC on random data with many ties', () => {
    for (let seed = 0; seed < 20; seed++) {
      const random = createRandom(seed);
      const n = 50 + random.integer(400);
      const labels = Array.from({ length: n }, () => (random.uniform() < 0.3 ? 1 : 0));
      // Scores rounded to a coarse grid so that ties are common, within and across classes.
      const scores = labels.map(
        (y) => Math.round(Math.min(1, Math.max(0, random.normal(0.4 + 0.2 * y, 0.2))) * 20) / 20,
      );
      expect(rocAuc(scores, labels)).toBeCloseTo(bruteForceAuc(scores, labels), 12);
    }
  });

  it('is 1, 0 and ½ for perfect, inverted and uninformative scores; null with one class', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(rocAuc([0.1, 0.9], [1, 1])).toBeNull();
    expect(rocAuc([0.1, 0.9], [false, true])).toBe(1);
  });

  it('refuses mismatched lengths, bad labels and NaN scores', () => {
    expect(() => rocAuc([0.1], [0, 1])).toThrow(/1 scores for 2 labels/);
    expect(() => rocAuc([0.1, 0.2], [0, 2])).toThrow(/label 1 is 2/);
    expect(() => rocAuc([NaN, 0.2], [0, 1])).toThrow(/score 0 is NaN/);
  });
});

describe('classificationMetrics', () => {
  it('computes the threshold metrics, clipped log loss and counts by hand', () => {
    const scores = [0.9, 0.8, 0.6, 0.4, 0.3, 0.1, 1, 0];
    const labels = [1, 1, 0, 1, 0, 0, 1, 1];
    const report = classificationMetrics(scores, labels);
    // At 0.5: predicted positive 0.9, 0.8, 0.6, 1 → TP 3 (0.9, 0.8, 1), FP 1 (0.6); FN 0.4, 0 → 2; TN 0.3, 0.1 → 2.
    expect(report.confusion).toEqual({
      truePositives: 3,
      falsePositives: 1,
      trueNegatives: 2,
      falseNegatives: 2,
    });
    expect(report).toMatchObject({
      count: 8,
      positives: 5,
      negatives: 3,
      accuracy: 5 / 8,
      precision: 3 / 4,
      recall: 3 / 5,
    });
    // The score 0 on a positive is clipped to 1e-15: −ln(1e-15) ≈ 34.5 dominates.
    const expected =
      -(Math.log(0.9) + Math.log(0.8) + Math.log(0.4) + Math.log(1 - 1e-15) + Math.log(1e-15)) -
      (Math.log(0.4) + Math.log(0.7) + Math.log(0.9));
    expect(report.logLoss).toBeCloseTo(expected / 8, 12);
    expect(report.auc).toBeCloseTo(bruteForceAuc(scores, labels), 12);
    expect(classificationMetrics(scores, labels, { threshold: 0.95 })).toMatchObject({
      precision: 1,
      recall: 1 / 5,
    });
    expect(classificationMetrics([0.1], [0])).toMatchObject({ precision: null, recall: null, auc: null });
  });

  it('bins scores for the reliability diagram and the expected calibration error', () => {
    const report = classificationMetrics([0.05, 0.15, 0.15, 0.95, 1], [0, 0, 1, 1, 1], {
      calibrationBins: 10,
    });
    const { bins, expectedCalibrationError, maxCalibrationError } = report.calibration;
    expect(bins).toHaveLength(10);
    expect(bins[0]).toEqual({ lower: 0, upper: 0.1, count: 1, meanScore: 0.05, positiveRate: 0 });
    expect(bins[1]).toMatchObject({ count: 2, positiveRate: 0.5 });
    expect(bins[1]!.meanScore).toBeCloseTo(0.15, 15);
    expect(bins[5]).toMatchObject({ count: 0, meanScore: null, positiveRate: null });
    // A score of exactly 1 falls into the last bin.
    expect(bins[9]).toMatchObject({ count: 2, positiveRate: 1 });
    expect(bins[9]!.meanScore).toBeCloseTo(0.975, 15);
    // (1·0.05 + 2·0.35 + 2·0.025) / 5
    expect(expectedCalibrationError).toBeCloseTo((0.05 + 0.7 + 0.05) / 5, 12);
    expect(maxCalibrationError).toBeCloseTo(0.35, 12);
  });

  it('finds a calibrated model calibrated', () => {
    const random = createRandom(42);
    const scores = Array.from({ length: 20_000 }, () => random.uniform());
    const labels = scores.map((s) => (random.uniform() < s ? 1 : 0));
    const report = classificationMetrics(scores, labels);
    expect(report.calibration.expectedCalibrationError).toBeLessThan(0.02);
    // Positives' scores have density 2s, negatives' 2(1 − s): AUC = 4∫x(x − x²/2)dx = 5/6.
    // Its standard error at 20,000 pairs is about 0.003.
    expect(Math.abs(report.auc! - 5 / 6)).toBeLessThan(0.015);
  });

  it('refuses scores outside [0, 1], no pairs and bad options', () => {
    expect(() => classificationMetrics([1.5], [1])).toThrow(/probabilities in \[0, 1\]/);
    expect(() => classificationMetrics([], [])).toThrow(/at least one/);
    expect(() => classificationMetrics([0.5], [1], { calibrationBins: 0 })).toThrow(/calibrationBins/);
  });
});
