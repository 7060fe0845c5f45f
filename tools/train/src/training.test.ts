import { createSeededRandom } from '@slipway/onnx';
import { describe, expect, it } from 'vitest';
import { fitLogisticRegression, predictProbabilities } from './logistic-regression.js';
import { accuracy, auc, brierScore, calibration, logLoss } from './metrics.js';

describe('logistic regression', () => {
  it('recovers the coefficients that generated the data', () => {
    const random = createSeededRandom(3);
    const truth = { w: [1.5, -2, 0.5], b: -0.25 };
    const x: Float64Array[] = [];
    const y: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      // Different scales and offsets: standardisation must be folded back correctly.
      const row = Float64Array.from([random.normal() * 3 + 10, random.normal() * 0.1, random.normal() * 50]);
      const eta =
        truth.b +
        (truth.w[0]! * (row[0]! - 10)) / 3 +
        (truth.w[1]! * row[1]!) / 0.1 +
        (truth.w[2]! * row[2]!) / 50;
      x.push(row);
      y.push(random.next() < 1 / (1 + Math.exp(-eta)) ? 1 : 0);
    }
    const model = fitLogisticRegression(x, y, { l2: 0 });
    expect(model.weights[0]! * 3).toBeCloseTo(1.5, 1);
    expect(model.weights[1]! * 0.1).toBeCloseTo(-2, 1);
    expect(model.weights[2]! * 50).toBeCloseTo(0.5, 1);
    expect(model.bias + model.weights[0]! * 10).toBeCloseTo(-0.25, 1);
    const p = predictProbabilities(model, x.slice(0, 5));
    expect(p.every((v) => v > 0 && v < 1)).toBe(true);
  });
});

describe('metrics', () => {
  it('computes AUC with ties as the Mann-Whitney statistic', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75);
    expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBeCloseTo(0.5);
    expect(auc([0.9, 0.8, 0.1], [1, 1, 0])).toBe(1);
  });
  it('computes log loss and accuracy', () => {
    expect(logLoss([0.9, 0.2], [1, 0])).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2);
    expect(accuracy([0.9, 0.6, 0.2], [1, 0, 0])).toBeCloseTo(2 / 3);
    expect(brierScore([0.9, 0.2], [1, 0])).toBeCloseTo((0.01 + 0.04) / 2);
  });
  it('computes expected calibration error over equal-width bins with a reliability table', () => {
    // Bin [0.1, 0.2): predicted 0.15 twice, observed 1 of 2; bin [0.9, 1]: 1.0 predicted, observed 1.
    const result = calibration([0.15, 0.15, 1], [0, 1, 1], 10);
    expect(result.bins).toHaveLength(10);
    expect(result.bins[1]).toMatchObject({ count: 2, meanPredicted: 0.15, observedRate: 0.5 });
    expect(result.bins[9]).toMatchObject({ count: 1, meanPredicted: 1, observedRate: 1 });
    expect(result.bins[5]).toMatchObject({ count: 0, meanPredicted: null, observedRate: null });
    expect(result.ece).toBeCloseTo((2 / 3) * 0.35);
    expect(result.mce).toBeCloseTo(0.35);
  });
});
