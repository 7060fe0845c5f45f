import * as ort from 'onnxruntime-node';

/** Largest |onnxruntime − trainer| the export check accepts. */
export const ONNX_TOLERANCE = 1e-6;

/** onnxruntime disagrees with the trainer: the exported model is not the trained one. */
export class OnnxExportMismatchError extends Error {
  constructor(
    message: string,
    readonly maxDeviation: number,
    readonly row: number,
  ) {
    super(message);
    this.name = 'OnnxExportMismatchError';
  }
}

/**
 * Runs an exported model (input `input`, output `probability`) in onnxruntime on a row-major
 * float32 matrix and returns the probabilities.
 */
export async function runOnnx(bytes: Uint8Array, matrix: Float32Array, rows: number): Promise<Float32Array> {
  const width = rows === 0 ? 0 : matrix.length / rows;
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await session.run({ input: new ort.Tensor('float32', matrix, [rows, width]) });
    return result['probability']!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/**
 * Checks that onnxruntime reproduces the trainer's probabilities on `matrix` within
 * {@link ONNX_TOLERANCE} and returns the largest deviation.
 *
 * @throws OnnxExportMismatchError naming the worst row when any deviation is larger.
 */
export async function checkOnnxExport(
  bytes: Uint8Array,
  matrix: Float32Array,
  rows: number,
  expected: ArrayLike<number>,
): Promise<number> {
  const actual = await runOnnx(bytes, matrix, rows);
  if (actual.length !== rows) {
    throw new OnnxExportMismatchError(
      `onnxruntime returned ${actual.length} probabilities for ${rows} rows: the export is wrong`,
      Infinity,
      -1,
    );
  }
  let max = 0;
  let worst = -1;
  for (let i = 0; i < rows; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    // NaN compares false, so test the negation to catch it.
    if (!(d <= max)) {
      max = Number.isNaN(d) ? Infinity : d;
      worst = i;
    }
  }
  if (max > ONNX_TOLERANCE) {
    throw new OnnxExportMismatchError(
      `onnxruntime deviates from the trainer by ${max} (> ${ONNX_TOLERANCE}) on holdout row ${worst} ` +
        `(onnxruntime ${actual[worst]}, trainer ${expected[worst]}): the export is wrong, do not register it`,
      max,
      worst,
    );
  }
  return max;
}
