import type { BuiltModel } from './built-model.js';
import { InvalidModelSpecError } from './errors.js';
import { createGraphBuilder, DEFAULT_ONNX_OPSET } from './graph-builder.js';

/** Options of {@link buildLogisticRegression}. */
export interface LogisticRegressionOptions {
  /** One coefficient per feature; stored as FP32. */
  readonly weights: Float64Array | Float32Array | readonly number[];
  readonly bias: number;
  /** Defaults to `'input'`. */
  readonly inputName?: string;
  /** Defaults to `'probability'`. */
  readonly outputName?: string;
}

/**
 * A binary logistic regression: FP32 input `[batch, n]` → `sigmoid(x · w + b)` as
 * `probability` `[batch, 1]` (Gemm + Sigmoid, ai.onnx opset 17).
 */
export function buildLogisticRegression(options: LogisticRegressionOptions): BuiltModel {
  const n = options.weights.length;
  if (n === 0) throw new InvalidModelSpecError('logistic regression needs at least one weight');
  const weights = Float32Array.from(options.weights);
  if (!weights.every(Number.isFinite) || !Number.isFinite(options.bias)) {
    throw new InvalidModelSpecError('logistic regression weights and bias must be finite numbers');
  }
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'probability';
  const bytes = createGraphBuilder({ graphName: 'logistic_regression' })
    .opset('', DEFAULT_ONNX_OPSET)
    .docString(`logistic regression over ${n} features`)
    .input(inputName, 'FLOAT', ['batch', n])
    .output(outputName, 'FLOAT', ['batch', 1])
    .initializer('coefficients', weights, [n, 1])
    .initializer('intercept', Float32Array.of(options.bias), [1])
    .node('Gemm', [inputName, 'coefficients', 'intercept'], ['logit'], {}, { name: 'linear' })
    .node('Sigmoid', ['logit'], [outputName], {}, { name: 'sigmoid' })
    .encodeModel();
  return { bytes, inputName, outputName, inputSize: n };
}
