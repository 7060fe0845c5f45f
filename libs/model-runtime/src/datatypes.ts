import type { inference } from '@slipway/contracts';
import type { OipDatatype } from '@slipway/onnx';
import type { Tensor } from 'onnxruntime-node';

/** Open Inference Protocol tensor datatypes that onnxruntime can take and give. */
export type Datatype = OipDatatype;

/** The repeated field of `InferTensorContents` that carries a datatype's typed values. */
export type ContentsField = keyof inference.InferTensorContents;

/** A numeric tensor buffer as onnxruntime-node takes and gives it (FP16 = raw bits, BOOL = 0/1 bytes). */
export type NumericArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** Tensor elements in host memory: a typed array, or decoded UTF-8 strings for BYTES. */
export type TensorBuffer = NumericArray | string[];

type NumericArrayConstructor = {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
};

/** How one datatype travels on the wire and through onnxruntime. */
export interface DatatypeInfo {
  readonly datatype: Datatype;
  readonly ortType: Tensor.Type;
  /** Bytes per element in raw form; 0 for BYTES (variable length). */
  readonly byteSize: number;
  /** Typed-contents field, or undefined when the datatype travels only as raw bytes (FP16). */
  readonly field: ContentsField | undefined;
  /** Typed array class onnxruntime-node uses; undefined for BYTES. */
  readonly arrayType: NumericArrayConstructor | undefined;
  /** Inclusive integer range accepted in typed contents (number-valued integer types only). */
  readonly range?: readonly [number, number];
}

const table: readonly DatatypeInfo[] = [
  { datatype: 'BOOL', ortType: 'bool', byteSize: 1, field: 'boolContents', arrayType: Uint8Array },
  {
    datatype: 'UINT8',
    ortType: 'uint8',
    byteSize: 1,
    field: 'uintContents',
    arrayType: Uint8Array,
    range: [0, 0xff],
  },
  {
    datatype: 'UINT16',
    ortType: 'uint16',
    byteSize: 2,
    field: 'uintContents',
    arrayType: Uint16Array,
    range: [0, 0xffff],
  },
  {
    datatype: 'UINT32',
    ortType: 'uint32',
    byteSize: 4,
    field: 'uintContents',
    arrayType: Uint32Array,
    range: [0, 0xffffffff],
  },
  { datatype: 'UINT64', ortType: 'uint64', byteSize: 8, field: 'uint64Contents', arrayType: BigUint64Array },
  {
    datatype: 'INT8',
    ortType: 'int8',
    byteSize: 1,
    field: 'intContents',
    arrayType: Int8Array,
    range: [-0x80, 0x7f],
  },
  {
    datatype: 'INT16',
    ortType: 'int16',
    byteSize: 2,
    field: 'intContents',
    arrayType: Int16Array,
    range: [-0x8000, 0x7fff],
  },
  {
    datatype: 'INT32',
    ortType: 'int32',
    byteSize: 4,
    field: 'intContents',
    arrayType: Int32Array,
    range: [-0x80000000, 0x7fffffff],
  },
  { datatype: 'INT64', ortType: 'int64', byteSize: 8, field: 'int64Contents', arrayType: BigInt64Array },
  { datatype: 'FP16', ortType: 'float16', byteSize: 2, field: undefined, arrayType: Uint16Array },
  { datatype: 'FP32', ortType: 'float32', byteSize: 4, field: 'fp32Contents', arrayType: Float32Array },
  { datatype: 'FP64', ortType: 'float64', byteSize: 8, field: 'fp64Contents', arrayType: Float64Array },
  { datatype: 'BYTES', ortType: 'string', byteSize: 0, field: 'bytesContents', arrayType: undefined },
];

const byDatatype = new Map<string, DatatypeInfo>(table.map((d) => [d.datatype, d]));
const byOrtType = new Map<string, DatatypeInfo>(table.map((d) => [d.ortType, d]));

/** Every datatype this runtime serves, in protocol order. */
export const DATATYPES: readonly Datatype[] = table.map((d) => d.datatype);

const protoNames: Record<ContentsField, string> = {
  boolContents: 'bool_contents',
  intContents: 'int_contents',
  int64Contents: 'int64_contents',
  uintContents: 'uint_contents',
  uint64Contents: 'uint64_contents',
  fp32Contents: 'fp32_contents',
  fp64Contents: 'fp64_contents',
  bytesContents: 'bytes_contents',
};

/** All typed-contents fields. */
export const CONTENTS_FIELDS = Object.keys(protoNames) as ContentsField[];

/** Protobuf name of a contents field, for error messages users can act on. */
export function protoFieldName(field: ContentsField): string {
  return protoNames[field];
}

/** Datatype info by protocol name, or undefined for names this runtime does not serve. */
export function datatypeInfo(datatype: string): DatatypeInfo | undefined {
  return byDatatype.get(datatype);
}

/** Datatype info for an onnxruntime tensor type, or undefined when the protocol cannot carry it (int4, uint4). */
export function datatypeOfOrtType(ortType: string): DatatypeInfo | undefined {
  return byOrtType.get(ortType);
}
