import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { buildLogisticRegression } from '@slipway/onnx';
import { DEMO_FEATURES, generateTransactions, type Transaction } from './demo-data.js';
import { fitLogisticRegression, predictProbabilities, type LogisticModel } from './logistic-regression.js';
import { accuracy, auc, logLoss } from './metrics.js';

/** Options of {@link trainDemoModel}. */
export interface DemoTrainingOptions {
  rows: number;
  seed: number;
  /** Share of the latest rows (by event time) held out for evaluation. Default 0.2. */
  holdout?: number;
  l2?: number;
}

/** Everything a registration needs: the ONNX bytes, metrics and lineage facts. */
export interface TrainedDemoModel {
  onnx: Uint8Array;
  model: LogisticModel;
  features: readonly string[];
  metrics: Array<{ name: string; value: number; dataset: string }>;
  snapshot: { sha256: string; rowCount: number; startTime: Date; endTime: Date; location: string };
  params: Record<string, unknown>;
  /** Largest |onnxruntime − trainer| over the holdout probabilities. */
  maxOnnxDeviation: number;
}

/**
 * Generates seeded demo transactions, splits them by time (no future rows in training), fits a
 * logistic regression, evaluates it on the held-out later rows, exports ONNX, and checks that
 * onnxruntime reproduces the trainer's probabilities (|Δ| ≤ 1e-6, else it throws).
 */
export async function trainDemoModel(options: DemoTrainingOptions): Promise<TrainedDemoModel> {
  const rows = generateTransactions({ rows: options.rows, seed: options.seed });
  rows.sort(
    (a, b) => a.eventTime.getTime() - b.eventTime.getTime() || a.transactionId.localeCompare(b.transactionId),
  );
  const cut = Math.floor(rows.length * (1 - (options.holdout ?? 0.2)));
  const train = rows.slice(0, cut);
  const test = rows.slice(cut);
  const matrix = (part: Transaction[]) => part.map((r) => Float64Array.from(DEMO_FEATURES, (f) => r[f]));
  const l2 = options.l2 ?? 1e-3;
  const model = fitLogisticRegression(
    matrix(train),
    Int8Array.from(train, (r) => r.label),
    { l2 },
  );

  const onnx = buildLogisticRegression({ weights: Array.from(model.weights), bias: model.bias }).bytes;
  const testX = matrix(test);
  const labels = Int8Array.from(test, (r) => r.label);
  // The exported model holds float32 parameters: compare against the trainer with those.
  const exported: LogisticModel = {
    ...model,
    weights: Float64Array.from(Float32Array.from(model.weights)),
    bias: Math.fround(model.bias),
  };
  const expected = predictProbabilities(
    exported,
    testX.map((row) => Float64Array.from(Float32Array.from(row))),
  );
  const actual = await runOnnx(onnx, testX);
  let maxOnnxDeviation = 0;
  for (let i = 0; i < expected.length; i++)
    maxOnnxDeviation = Math.max(maxOnnxDeviation, Math.abs(expected[i]! - actual[i]!));
  if (maxOnnxDeviation > 1e-6) {
    throw new Error(
      `onnxruntime deviates from the trainer by ${maxOnnxDeviation} (> 1e-6): the export is wrong`,
    );
  }

  const probabilities = predictProbabilities(model, testX);
  const csv = rows.map((r) =>
    [r.transactionId, r.eventTime.toISOString(), ...DEMO_FEATURES.map((f) => r[f]), r.label].join(','),
  );
  return {
    onnx,
    model,
    features: DEMO_FEATURES,
    metrics: [
      { name: 'auc', value: auc(probabilities, labels), dataset: 'holdout' },
      { name: 'log_loss', value: logLoss(probabilities, labels), dataset: 'holdout' },
      { name: 'accuracy', value: accuracy(probabilities, labels), dataset: 'holdout' },
      { name: 'positive_rate', value: labels.reduce((s, v) => s + v, 0) / labels.length, dataset: 'holdout' },
    ],
    snapshot: {
      sha256: createHash('sha256').update(csv.join('\n')).digest('hex'),
      rowCount: rows.length,
      startTime: rows[0]!.eventTime,
      endTime: rows.at(-1)!.eventTime,
      location: `generated:demo-transactions?seed=${options.seed}&rows=${options.rows}`,
    },
    params: {
      algorithm: 'logistic_regression',
      solver: 'newton',
      l2,
      features: [...DEMO_FEATURES],
      seed: options.seed,
      holdout: options.holdout ?? 0.2,
      iterations: model.iterations,
    },
    maxOnnxDeviation,
  };
}

async function runOnnx(bytes: Uint8Array, x: Float64Array[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const d = x[0]!.length;
    const data = new Float32Array(x.length * d);
    x.forEach((row, i) => data.set(row, i * d));
    const result = await session.run({ input: new ort.Tensor('float32', data, [x.length, d]) });
    return result['probability']!.data as Float32Array;
  } finally {
    await session.release();
  }
}
