import { FailedPreconditionError } from '@slipway/errors';
import {
  buildProfile,
  encodeProfile,
  fit,
  serializeFitted,
  transform,
  type FeatureSetSpec,
  type FittedFeatureSet,
  type Row,
} from '@slipway/features';
import {
  trainClassifier,
  type Algorithm,
  type AlgorithmOptions,
  type Classifier,
  type JsonValue,
} from './classifier.js';
import { dataSnapshot, type DataSnapshot, type TrainingData } from './data-source.js';
import { accuracy, auc, brierScore, calibration, logLoss, type Calibration } from './metrics.js';
import { checkOnnxExport } from './onnx-check.js';
import { stratifiedSplit, timeSplit, type Split } from './split.js';

/** How to hold out evaluation rows. */
export interface SplitOptions {
  /** `time`: the latest rows by the data's time column; `stratified`: seeded, class-balanced. */
  readonly kind: 'time' | 'stratified';
  /** Share of rows held out, in (0, 1). */
  readonly holdout: number;
}

/** Options of {@link trainModel}. */
export interface TrainOptions {
  readonly data: TrainingData;
  /**
   * The feature-set spec, or a function that derives one from the training rows only (an
   * automatic spec must not look at the holdout).
   */
  readonly spec: FeatureSetSpec | ((trainRows: readonly Row[], data: TrainingData) => FeatureSetSpec);
  readonly algorithm: Algorithm;
  readonly algorithmOptions?: AlgorithmOptions;
  readonly split: SplitOptions;
  /** Seeds the split (stratified) and the algorithm. */
  readonly seed: number;
}

/** Quality of predictions on one part of the data. */
export interface Evaluation {
  readonly rows: number;
  readonly positiveRate: number;
  readonly auc: number;
  readonly logLoss: number;
  readonly accuracy: number;
  readonly brier: number;
  /** Over 10 equal-width probability bins. */
  readonly calibration: Calibration;
}

/** A lineage metric: `{ name, value, dataset }`. */
export interface EvaluationMetric {
  readonly name: string;
  readonly value: number;
  readonly dataset: string;
}

/** Everything registration and `--out` need, plus the trainer's own predictor. */
export interface TrainedModel {
  /** ONNX: `input` FP32 [batch, columns.length] → `probability` FP32 [batch, 1]. */
  readonly onnx: Uint8Array;
  /** The feature set fitted on the training split. */
  readonly fitted: FittedFeatureSet;
  /** `serializeFitted(fitted)`: the exact bytes the feature service registers. */
  readonly featureSetJson: string;
  /** The model's input columns, in order (= `fitted.columns`). */
  readonly columns: readonly string[];
  readonly classifier: Classifier;
  readonly split: Split;
  readonly evaluation: { readonly train: Evaluation; readonly holdout: Evaluation };
  /** Flattened evaluation for lineage. */
  readonly metrics: readonly EvaluationMetric[];
  readonly snapshot: DataSnapshot;
  /** Lineage params: algorithm, hyper-parameters, seed, split, target, input. */
  readonly params: Readonly<Record<string, JsonValue>>;
  /** `encodeProfile(buildProfile(fitted, train transform, train predictions))`. */
  readonly referenceProfile: Uint8Array;
  /** Largest |onnxruntime − trainer| over the holdout (≤ 1e-6, else training threw). */
  readonly maxOnnxDeviation: number;
  /** The trainer's probabilities for raw rows: `transform(fitted, rows)`, then the classifier. */
  predictRows(rows: readonly Row[]): Float64Array;
}

function evaluate(probabilities: Float64Array, labels: Uint8Array): Evaluation {
  let positives = 0;
  for (const y of labels) positives += y;
  return {
    rows: labels.length,
    positiveRate: positives / labels.length,
    auc: auc(probabilities, labels),
    logLoss: logLoss(probabilities, labels),
    accuracy: accuracy(probabilities, labels),
    brier: brierScore(probabilities, labels),
    calibration: calibration(probabilities, labels, 10),
  };
}

function checkBothClasses(labels: Uint8Array, part: string): void {
  let positives = 0;
  for (const y of labels) positives += y;
  if (positives === 0 || positives === labels.length) {
    throw new FailedPreconditionError(
      `the ${part} split has ${positives === 0 ? 'no positive' : 'only positive'} rows (${labels.length} rows); ` +
        'use more data, a different --holdout or a stratified split',
    );
  }
}

/**
 * Trains a model on feature-set vectors: split, fit the feature set on the training rows only,
 * transform both parts, fit the classifier on the training matrix, evaluate on the holdout,
 * export ONNX and check that onnxruntime reproduces the trainer's holdout probabilities within
 * 1e-6, and build the reference profile. Deterministic for a fixed seed and data.
 *
 * @throws OnnxExportMismatchError when the export check fails.
 * @throws FailedPreconditionError when a split lacks one of the classes.
 */
export async function trainModel(options: TrainOptions): Promise<TrainedModel> {
  const { data, seed } = options;
  let split: Split;
  if (options.split.kind === 'time') {
    if (data.time === undefined) {
      throw new FailedPreconditionError(
        `a time split needs a time column, and ${data.location} has none; use a stratified split or name one`,
      );
    }
    split = timeSplit(data.time.epochMs, options.split.holdout);
  } else {
    split = stratifiedSplit(data.labels, options.split.holdout, seed);
  }
  const pick = (indices: Int32Array) => Array.from(indices, (i) => data.rows[i]!);
  const trainRows = pick(split.train);
  const testRows = pick(split.test);
  const trainLabels = Uint8Array.from(split.train, (i) => data.labels[i]!);
  const testLabels = Uint8Array.from(split.test, (i) => data.labels[i]!);
  checkBothClasses(trainLabels, 'training');
  checkBothClasses(testLabels, 'holdout');

  const spec = typeof options.spec === 'function' ? options.spec(trainRows, data) : options.spec;
  const fitted = fit(spec, trainRows);
  const width = fitted.columns.length;
  const train = transform(fitted, trainRows);
  const test = transform(fitted, testRows);
  const classifier = trainClassifier(
    options.algorithm,
    train.matrix,
    train.rows,
    width,
    trainLabels,
    seed,
    options.algorithmOptions,
  );
  const trainPredictions = classifier.predict(train.matrix, train.rows);
  const testPredictions = classifier.predict(test.matrix, test.rows);
  const onnx = classifier.toOnnx();
  const maxOnnxDeviation = await checkOnnxExport(onnx, test.matrix, test.rows, testPredictions);

  const evaluation = {
    train: evaluate(trainPredictions, trainLabels),
    holdout: evaluate(testPredictions, testLabels),
  };
  const h = evaluation.holdout;
  const metrics: EvaluationMetric[] = [
    { name: 'auc', value: h.auc, dataset: 'holdout' },
    { name: 'log_loss', value: h.logLoss, dataset: 'holdout' },
    { name: 'accuracy', value: h.accuracy, dataset: 'holdout' },
    { name: 'brier', value: h.brier, dataset: 'holdout' },
    { name: 'ece', value: h.calibration.ece, dataset: 'holdout' },
    { name: 'positive_rate', value: h.positiveRate, dataset: 'holdout' },
    { name: 'auc', value: evaluation.train.auc, dataset: 'train' },
    { name: 'log_loss', value: evaluation.train.logLoss, dataset: 'train' },
  ];
  const splitParams: Record<string, JsonValue> = {
    kind: split.kind,
    holdout: split.holdout,
    trainRows: split.train.length,
    holdoutRows: split.test.length,
  };
  if (split.cutoff !== undefined) splitParams['cutoff'] = split.cutoff.toISOString();
  if (split.seed !== undefined) splitParams['seed'] = split.seed;
  if (data.time !== undefined) splitParams['timeField'] = data.time.field;
  return {
    onnx,
    fitted,
    featureSetJson: serializeFitted(fitted),
    columns: fitted.columns,
    classifier,
    split,
    evaluation,
    metrics,
    snapshot: dataSnapshot(data),
    params: {
      algorithm: classifier.algorithm,
      hyperparameters: { ...classifier.params },
      seed,
      split: splitParams,
      target: { ...data.target },
      featureSet: `${fitted.spec.name}@${fitted.spec.version}`,
      input: { name: 'input', output: 'probability', width, columns: [...fitted.columns] },
    },
    referenceProfile: encodeProfile(buildProfile(fitted, train, trainPredictions)),
    maxOnnxDeviation,
    predictRows(rows) {
      const t = transform(fitted, rows);
      return classifier.predict(t.matrix, t.rows);
    },
  };
}
