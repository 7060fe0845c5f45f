import { buildLogisticRegression, buildTreeEnsemble } from '@slipway/onnx';
import {
  boostedProbabilities,
  fitGradientBoosting,
  type BoostedTrees,
  type GradientBoostingOptions,
} from './gradient-boosting.js';
import { fitLogisticRegression, type FitOptions as LogisticOptions } from './logistic-regression.js';

/** The algorithms `slipway train` offers. */
export type Algorithm = 'logreg' | 'gbt';

/** Accepted `--algorithm` values. */
export const ALGORITHMS: readonly Algorithm[] = ['logreg', 'gbt'];

/** Hyper-parameters per algorithm; unset fields take each algorithm's documented default. */
export interface AlgorithmOptions {
  readonly logreg?: LogisticOptions;
  readonly gbt?: GradientBoostingOptions;
}

/** A JSON value, as lineage params (a protobuf Struct) hold them. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A trained binary classifier over a feature set's float32 matrix. `predict` is the trainer's own
 * answer, computed from the exact float32 parameters that `toOnnx` stores, so onnxruntime must
 * agree with it up to float32 arithmetic.
 */
export interface Classifier {
  readonly algorithm: Algorithm;
  /** Input width (the fitted feature set's column count). */
  readonly width: number;
  /** Hyper-parameters with defaults filled in, plus fit facts (iterations, tree count). */
  readonly params: Readonly<Record<string, JsonValue>>;
  /** Positive-class probabilities for a row-major `rows × width` matrix. */
  predict(matrix: Float32Array, rows: number): Float64Array;
  /** ONNX model: input `input` FP32 [batch, width] → output `probability` FP32 [batch, 1]. */
  toOnnx(): Uint8Array;
}

/**
 * Fits the chosen algorithm on a row-major float32 matrix with 0/1 labels.
 *
 * @param seed drives every random choice of the algorithm (GBT row subsampling).
 */
export function trainClassifier(
  algorithm: Algorithm,
  matrix: Float32Array,
  rows: number,
  width: number,
  labels: ArrayLike<number>,
  seed: number,
  options: AlgorithmOptions = {},
): Classifier {
  return algorithm === 'gbt'
    ? boostedClassifier(fitGradientBoosting(matrix, rows, width, labels, { seed, ...options.gbt }))
    : logisticClassifier(matrix, rows, width, labels, options.logreg ?? {});
}

function logisticClassifier(
  matrix: Float32Array,
  rows: number,
  width: number,
  labels: ArrayLike<number>,
  options: LogisticOptions,
): Classifier {
  const x = Array.from({ length: rows }, (_, i) =>
    Float64Array.from(matrix.subarray(i * width, (i + 1) * width)),
  );
  const fitted = fitLogisticRegression(x, labels, options);
  // The exported model holds float32 parameters; the trainer predicts with exactly those.
  const weights = Float32Array.from(fitted.weights);
  const bias = Math.fround(fitted.bias);
  return {
    algorithm: 'logreg',
    width,
    params: {
      solver: 'newton',
      l2: options.l2 ?? 1e-3,
      maxIterations: options.maxIterations ?? 50,
      tolerance: options.tolerance ?? 1e-10,
      iterations: fitted.iterations,
    },
    predict(m, n) {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let eta = bias;
        for (let j = 0; j < width; j++) eta += m[i * width + j]! * weights[j]!;
        out[i] = 1 / (1 + Math.exp(-eta));
      }
      return out;
    },
    toOnnx: () => buildLogisticRegression({ weights: Array.from(weights), bias }).bytes,
  };
}

function boostedClassifier(model: BoostedTrees): Classifier {
  const { seed, ...hyper } = model.options;
  let nodes = 0;
  for (const tree of model.trees) nodes += tree.nodes.length;
  return {
    algorithm: 'gbt',
    width: model.featureCount,
    params: {
      ...hyper,
      subsampleSeed: seed,
      loss: 'logistic',
      splits: 'histogram',
      trees: model.trees.length,
      nodes,
    },
    predict: (m, n) => boostedProbabilities(model, m, n),
    toOnnx: () =>
      buildTreeEnsemble({
        trees: model.trees,
        baseScore: model.baseScore,
        postTransform: 'LOGISTIC',
        comparison: 'LEQ',
        featureCount: model.featureCount,
      }).bytes,
  };
}
