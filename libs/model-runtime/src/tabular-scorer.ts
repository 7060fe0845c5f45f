import type { inference } from '@slipway/contracts';
import { FailedPreconditionError } from '@slipway/errors';
import type { LoadedModel } from './model-loader.js';

/**
 * A model fed feature vectors in process, as batch and stream inference use it: one FP32
 * [rows, width] input, numeric scores out of its first output. No RPC per row: the rows of a
 * chunk are one model run.
 */
export interface TabularScorer {
  readonly model: LoadedModel;
  /** Values of the first output per row (1 for a score, 2 for two class probabilities...). */
  readonly scoresPerRow: number;
  /** True when the scores are FP32 (so they print with float32 precision). */
  readonly float32: boolean;
  /**
   * Scores `rows` row-major vectors: rows × scoresPerRow values, in the rows' order.
   * @throws FailedPreconditionError when the model returns another number of values.
   */
  score(matrix: Float32Array, rows: number): Promise<ArrayLike<number>>;
}

const NUMERIC = ['FP32', 'FP64', 'INT32', 'INT64'];

/**
 * Checks that `model` takes one FP32 [rows, width] input and gives numeric scores, and learns how
 * many values a row gets by running one zero row (whatever the output's declared shape).
 *
 * @param purpose what the scorer is for, in error messages (e.g. "batch scoring").
 * @param featureSetName the feature set whose `width` columns feed it, in error messages.
 * @throws FailedPreconditionError when the model does not fit that shape.
 */
export async function createTabularScorer(
  model: LoadedModel,
  width: number,
  purpose: string,
  featureSetName: string,
): Promise<TabularScorer> {
  const { inputs, outputs } = model.signature;
  const label = `model "${model.name}" version ${model.version}`;
  const input = inputs[0]!;
  const last = input.shape.at(-1);
  if (
    inputs.length !== 1 ||
    input.datatype !== 'FP32' ||
    input.shape.length !== 2 ||
    (last! >= 0 && last !== width)
  ) {
    throw new FailedPreconditionError(
      `${label} takes ${inputs.map((i) => `${i.name} ${i.datatype} [${i.shape.join(',')}]`).join(', ')}; ${purpose} feeds one FP32 [rows, ${width}] input (the ${width} columns of feature set "${featureSetName}")`,
    );
  }
  const output = outputs[0]!;
  if (!NUMERIC.includes(output.datatype)) {
    throw new FailedPreconditionError(
      `${label}: its first output "${output.name}" is ${output.datatype}; ${purpose} needs numeric scores (${NUMERIC.join(', ')})`,
    );
  }
  const io = { input: input.name, output: output.name };
  const run = async (matrix: Float32Array, rows: number): Promise<ArrayLike<number>> => {
    const response = await model.infer(inferRequest(model, io, matrix, rows), { rawOutput: true });
    const raw = response.rawOutputContents[0];
    if (!raw) throw new FailedPreconditionError(`${label} returned no output "${io.output}"`);
    return scoresOf(output.datatype, raw);
  };
  const scoresPerRow = (await run(new Float32Array(width), 1)).length;
  if (scoresPerRow < 1)
    throw new FailedPreconditionError(`${label} returned no "${output.name}" values for a row`);
  return {
    model,
    scoresPerRow,
    float32: output.datatype === 'FP32',
    async score(matrix, rows) {
      const scores = await run(matrix, rows);
      if (scores.length !== rows * scoresPerRow) {
        throw new FailedPreconditionError(
          `${label} returned ${scores.length} values of "${io.output}" for ${rows} rows; expected ${scoresPerRow} per row`,
        );
      }
      return scores;
    },
  };
}

function scoresOf(datatype: string, raw: Uint8Array): ArrayLike<number> {
  const bytes = raw.byteOffset % 8 === 0 ? raw : raw.slice();
  switch (datatype) {
    case 'FP32':
      return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    case 'FP64':
      return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
    case 'INT32':
      return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    default:
      return Array.from(new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8), Number);
  }
}

function inferRequest(
  model: LoadedModel,
  io: { input: string; output: string },
  matrix: Float32Array,
  rows: number,
): inference.ModelInferRequest {
  return {
    modelName: model.name,
    modelVersion: model.version,
    id: '',
    parameters: {},
    inputs: [
      {
        name: io.input,
        datatype: 'FP32',
        shape: [BigInt(rows), BigInt(matrix.length / rows)],
        parameters: {},
        contents: undefined,
      },
    ],
    outputs: [{ name: io.output, parameters: {} }],
    rawInputContents: [new Uint8Array(matrix.buffer, matrix.byteOffset, matrix.byteLength)],
  };
}
