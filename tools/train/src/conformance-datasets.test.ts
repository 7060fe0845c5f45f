import { createHash } from 'node:crypto';
import path from 'node:path';
import { conformanceDir, skipWithoutConformance } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { inferFeatureSetSpec } from './auto-spec.js';
import type { Algorithm } from './classifier.js';
import { createCsvDataSource, type TrainingData } from './data-source.js';
import { trainModel } from './pipeline.js';

// Public tabular data sets from the shared conformance corpus (never copied into the repo).
const dir = conformanceDir();
const skip = skipWithoutConformance();
const dataset = (...parts: string[]) => path.join(dir as string, 'datasets', ...parts);

async function train(data: TrainingData, algorithm: Algorithm, seed: number, exclude: string[]) {
  return trainModel({
    data,
    algorithm,
    seed,
    split: { kind: 'stratified', holdout: 0.2 },
    spec: (rows, d) => inferFeatureSetSpec(rows, d.fields, { name: 'dataset', exclude }).spec,
  });
}

describe.skipIf(skip)('training on the conformance data sets', () => {
  it('german_credit: logistic regression reaches the published AUC range, deterministically; GBT too', async () => {
    const data = await createCsvDataSource({
      file: dataset('german_credit', 'german_credit.csv'),
      target: 'credit_risk',
      positive: '2',
    }).load();
    expect(data.rows).toHaveLength(1_000);
    expect(data.labels.reduce((s, y) => s + y, 0)).toBe(300);
    const first = await train(data, 'logreg', 42, ['credit_risk']);
    const again = await train(data, 'logreg', 42, ['credit_risk']);
    // Published logistic-regression AUCs on this data are about 0.75–0.80.
    expect(first.evaluation.holdout.auc).toBeGreaterThanOrEqual(0.74);
    expect(first.evaluation.holdout.auc).toBeLessThanOrEqual(0.84);
    expect(first.evaluation.holdout.auc).toBeCloseTo(0.803571, 5);
    expect(first.split.test).toHaveLength(200);
    expect(first.metrics).toEqual(again.metrics);
    expect(createHash('sha256').update(first.onnx).digest('hex')).toBe(
      createHash('sha256').update(again.onnx).digest('hex'),
    );
    expect(first.maxOnnxDeviation).toBeLessThanOrEqual(1e-6);
    // 7 numeric columns plus one-hot columns (with unknown buckets) for the 13 coded ones.
    expect(first.columns).toContain('duration_in_month__standardize');
    expect(first.columns).toContain('savings_account_bonds=__unknown__');

    const gbt = await train(data, 'gbt', 42, ['credit_risk']);
    expect(gbt.evaluation.holdout.auc).toBeGreaterThan(0.74);
    expect(gbt.maxOnnxDeviation).toBeLessThanOrEqual(1e-6);
  });

  it('airlines: learns departure delays once the label copy IsDepDelayed_REC is dropped', async () => {
    const data = await createCsvDataSource({
      file: dataset('airlines', 'airlines.csv'),
      target: 'IsDepDelayed',
      positive: 'YES',
    }).load();
    const model = await train(data, 'gbt', 42, ['IsDepDelayed', 'IsDepDelayed_REC']);
    expect(model.columns.some((c) => c.startsWith('IsDepDelayed'))).toBe(false);
    expect(model.evaluation.holdout.auc).toBeGreaterThan(0.65);
    expect(model.evaluation.holdout.auc).toBeLessThan(0.8);
    expect(model.maxOnnxDeviation).toBeLessThanOrEqual(1e-6);
  });
});
