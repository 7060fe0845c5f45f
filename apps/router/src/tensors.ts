import type { inference } from '@slipway/contracts';

/** A ModelInfer request carrying `rows` feature vectors as one FP32 [rows, width] raw tensor. */
export function vectorRequest(
  model: string,
  version: number,
  input: string,
  output: string,
  matrix: Float32Array,
  rows: number,
): inference.ModelInferRequest {
  return {
    modelName: model,
    modelVersion: String(version),
    id: '',
    parameters: {},
    inputs: [
      {
        name: input,
        datatype: 'FP32',
        shape: [BigInt(rows), BigInt(rows === 0 ? 0 : matrix.length / rows)],
        parameters: {},
        contents: undefined,
      },
    ],
    outputs: [{ name: output, parameters: {} }],
    rawInputContents: [new Uint8Array(matrix.buffer, matrix.byteOffset, matrix.byteLength)],
  };
}

/** Element count of a shape. */
function sizeOf(shape: readonly bigint[]): number {
  let n = 1;
  for (const d of shape) n *= Number(d);
  return n;
}

/**
 * The numeric values of a tensor as numbers, from typed contents or its raw bytes; undefined for
 * non-numeric datatypes (BYTES) or when larger than `limit` elements.
 */
export function numericValues(
  datatype: string,
  shape: readonly bigint[],
  contents: inference.InferTensorContents | undefined,
  raw: Uint8Array | undefined,
  limit = Infinity,
): number[] | undefined {
  if (sizeOf(shape) > limit) return undefined;
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    const read = (width: number, get: (offset: number) => number): number[] => {
      for (let o = 0; o + width <= raw.byteLength; o += width) out.push(get(o));
      return out;
    };
    switch (datatype) {
      case 'FP32':
        return read(4, (o) => view.getFloat32(o, true));
      case 'FP64':
        return read(8, (o) => view.getFloat64(o, true));
      case 'INT32':
        return read(4, (o) => view.getInt32(o, true));
      case 'INT64':
        return read(8, (o) => Number(view.getBigInt64(o, true)));
      case 'UINT8':
      case 'BOOL':
        return read(1, (o) => view.getUint8(o));
      case 'INT8':
        return read(1, (o) => view.getInt8(o));
      default:
        return undefined;
    }
  }
  if (!contents) return undefined;
  if (contents.fp32Contents.length) return contents.fp32Contents;
  if (contents.fp64Contents.length) return contents.fp64Contents;
  if (contents.intContents.length) return contents.intContents;
  if (contents.int64Contents.length) return contents.int64Contents.map(Number);
  if (contents.uintContents.length) return contents.uintContents;
  if (contents.uint64Contents.length) return contents.uint64Contents.map(Number);
  if (contents.boolContents.length) return contents.boolContents.map((b) => (b ? 1 : 0));
  return [];
}

/** The first output of a response as numbers (raw or typed), or [] when not numeric. */
export function firstOutput(response: inference.ModelInferResponse): { values: number[]; shape: bigint[] } {
  const out = response.outputs[0];
  if (!out) return { values: [], shape: [] };
  const values = numericValues(out.datatype, out.shape, out.contents, response.rawOutputContents[0]) ?? [];
  return { values, shape: out.shape };
}
