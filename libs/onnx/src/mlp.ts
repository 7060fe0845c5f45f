import type { BuiltModel } from './built-model.js';
import { InvalidModelSpecError } from './errors.js';
import { attr } from './model-spec.js';
import { createGraphBuilder, DEFAULT_ONNX_OPSET } from './graph-builder.js';
import { createSeededRandom } from './seeded-random.js';

/** Hidden-layer activation of {@link buildMlp}. */
export type MlpActivation = 'relu' | 'tanh';
/** Output activation of {@link buildMlp}; softmax runs over the last axis. */
export type MlpOutputActivation = 'sigmoid' | 'softmax' | 'none';

/** Options of {@link buildMlp}. */
export interface MlpOptions {
  readonly inputSize: number;
  readonly hidden: readonly number[];
  readonly outputSize: number;
  readonly activation: MlpActivation;
  readonly outputActivation: MlpOutputActivation;
  /** Same seed, same weights, same bytes. */
  readonly seed: number;
  /** Defaults to `'input'`. */
  readonly inputName?: string;
  /** Defaults to `'output'`. */
  readonly outputName?: string;
}

/** One dense layer: `activation(x · weights + bias)`. */
export interface MlpLayer {
  readonly inputSize: number;
  readonly outputSize: number;
  /** Row-major `[inputSize, outputSize]`. */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly activation: MlpActivation | MlpOutputActivation;
}

/** An MLP model and its weights, so callers can check its answers. */
export interface BuiltMlp extends BuiltModel {
  readonly layers: readonly MlpLayer[];
}

/** Benchmark shapes: `tiny` is a typical tabular scorer, `heavy` makes compute dominate a request. */
export const MLP_PRESETS = {
  tiny: {
    inputSize: 30,
    hidden: [64, 64],
    outputSize: 1,
    activation: 'relu',
    outputActivation: 'sigmoid',
    seed: 1,
  },
  heavy: {
    inputSize: 256,
    hidden: [1024, 1024, 1024],
    outputSize: 1,
    activation: 'relu',
    outputActivation: 'sigmoid',
    seed: 2,
  },
} as const satisfies Record<string, MlpOptions>;

function checkSize(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new InvalidModelSpecError(`MLP ${what} must be a positive integer, got ${value}`);
}

/**
 * A multi-layer perceptron with deterministic Glorot-uniform weights: FP32 input
 * `[batch, inputSize]`, output `[batch, outputSize]`, one Gemm per layer (ai.onnx opset 17).
 */
export function buildMlp(options: MlpOptions): BuiltMlp {
  checkSize('inputSize', options.inputSize);
  checkSize('outputSize', options.outputSize);
  options.hidden.forEach((size, index) => checkSize(`hidden[${index}]`, size));
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  const random = createSeededRandom(options.seed);
  const sizes = [options.inputSize, ...options.hidden, options.outputSize];
  const layers: MlpLayer[] = [];
  const g = createGraphBuilder({ graphName: 'mlp' })
    .opset('', DEFAULT_ONNX_OPSET)
    .docString(
      `MLP ${sizes.join('→')} (${options.activation}, output ${options.outputActivation}), seed ${options.seed}`,
    )
    .input(inputName, 'FLOAT', ['batch', options.inputSize])
    .output(outputName, 'FLOAT', ['batch', options.outputSize]);

  let current = inputName;
  for (let index = 0; index + 1 < sizes.length; index++) {
    const inputSize = sizes[index]!;
    const outputSize = sizes[index + 1]!;
    const last = index + 2 === sizes.length;
    const limit = Math.sqrt(6 / (inputSize + outputSize));
    const weights = Float32Array.from({ length: inputSize * outputSize }, () =>
      random.uniform(-limit, limit),
    );
    const bias = Float32Array.from({ length: outputSize }, () => random.uniform(-0.1, 0.1));
    const activation = last ? options.outputActivation : options.activation;
    layers.push({ inputSize, outputSize, weights, bias, activation });

    const prefix = `layer${index}`;
    g.initializer(`${prefix}.weight`, weights, [inputSize, outputSize]);
    g.initializer(`${prefix}.bias`, bias, [outputSize]);
    const linear = last && activation === 'none' ? outputName : `${prefix}.linear`;
    g.node('Gemm', [current, `${prefix}.weight`, `${prefix}.bias`], [linear], {}, { name: `${prefix}.gemm` });
    current = linear;
    if (activation !== 'none') {
      const activated = last ? outputName : `${prefix}.${activation}`;
      const opType = { relu: 'Relu', tanh: 'Tanh', sigmoid: 'Sigmoid', softmax: 'Softmax' }[activation];
      g.node(opType, [current], [activated], activation === 'softmax' ? { axis: attr.int(-1) } : {}, {
        name: `${prefix}.${activation}`,
      });
      current = activated;
    }
  }
  return { bytes: g.encodeModel(), inputName, outputName, inputSize: options.inputSize, layers };
}
