import type { Algorithm, AlgorithmOptions } from './classifier.js';
import { createDemoDataSource } from './data-source.js';
import { DEMO_FEATURE_SET_SPEC } from './demo-feature-set.js';
import { trainModel, type TrainedModel } from './pipeline.js';

/** Options of {@link trainDemoModel}. */
export interface DemoTrainingOptions {
  rows: number;
  seed: number;
  /** Share of the latest rows (by event time) held out for evaluation. Default 0.2. */
  holdout?: number;
  /** Default `logreg`. */
  algorithm?: Algorithm;
  algorithmOptions?: AlgorithmOptions;
  /** Shifts the generated amounts (log space) to simulate drift. Default 0. */
  amountShift?: number;
}

/**
 * The demo fraud model: seeded generated transactions, split by time (no future rows in
 * training), {@link DEMO_FEATURE_SET_SPEC} fitted on the training rows, the chosen algorithm on
 * the transformed vectors, checked in onnxruntime within 1e-6.
 */
export async function trainDemoModel(options: DemoTrainingOptions): Promise<TrainedModel> {
  const source = createDemoDataSource({
    rows: options.rows,
    seed: options.seed,
    ...(options.amountShift ? { amountShift: options.amountShift } : {}),
  });
  return trainModel({
    data: await source.load(),
    spec: DEMO_FEATURE_SET_SPEC,
    algorithm: options.algorithm ?? 'logreg',
    ...(options.algorithmOptions === undefined ? {} : { algorithmOptions: options.algorithmOptions }),
    split: { kind: 'time', holdout: options.holdout ?? 0.2 },
    seed: options.seed,
  });
}
