import { createHash } from 'node:crypto';
import { createSeededRandom } from '@slipway/onnx';
import { describe, expect, it } from 'vitest';
import { trainDemoModel } from './demo-pipeline.js';
import { fitLogisticRegression, predictProbabilities } from './logistic-regression.js';
import { accuracy, auc, logLoss } from './metrics.js';

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
  });
});

describe('demo training pipeline', () => {
  it('learns the fraud signal, reproduces it in onnxruntime within 1e-6, and is deterministic', async () => {
    const first = await trainDemoModel({ rows: 8_000, seed: 11 });
    const second = await trainDemoModel({ rows: 8_000, seed: 11 });
    const metric = (name: string) => first.metrics.find((m) => m.name === name)!.value;
    expect(metric('auc')).toBeGreaterThan(0.7);
    expect(first.maxOnnxDeviation).toBeLessThanOrEqual(1e-6);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(sha(first.onnx)).toBe(sha(second.onnx));
    expect(first.snapshot.sha256).toBe(second.snapshot.sha256);
    expect(first.snapshot.startTime.getTime()).toBeLessThan(first.snapshot.endTime.getTime());
  });
});
