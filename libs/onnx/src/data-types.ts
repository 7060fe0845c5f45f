/** `TensorProto.DataType` codes by name, as in the ONNX specification. */
export const ONNX_TENSOR_TYPE_CODES = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
} as const;

/** An ONNX tensor element type name (`TensorProto.DataType`), e.g. `'FLOAT'`, `'INT64'`. */
export type OnnxTensorType = keyof typeof ONNX_TENSOR_TYPE_CODES;

/** Open Inference Protocol (KServe V2) tensor datatypes. */
export type OipDatatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/** onnxruntime-node tensor type strings (`Tensor.Type` in onnxruntime-common). */
export type OrtTensorType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'string'
  | 'int4'
  | 'uint4';

interface TypeRow {
  readonly onnx: OnnxTensorType;
  readonly oip: OipDatatype | '';
  readonly ort: OrtTensorType | undefined;
  /** Bytes per element; undefined for variable-width (STRING) and sub-byte (4-bit) types. */
  readonly bytes: number | undefined;
  /** The lower-case name ONNX type strings use, as in `tensor(float)`. */
  readonly typeString: string;
}

const ROWS: readonly TypeRow[] = [
  { onnx: 'UNDEFINED', oip: '', ort: undefined, bytes: undefined, typeString: 'undefined' },
  { onnx: 'FLOAT', oip: 'FP32', ort: 'float32', bytes: 4, typeString: 'float' },
  { onnx: 'UINT8', oip: 'UINT8', ort: 'uint8', bytes: 1, typeString: 'uint8' },
  { onnx: 'INT8', oip: 'INT8', ort: 'int8', bytes: 1, typeString: 'int8' },
  { onnx: 'UINT16', oip: 'UINT16', ort: 'uint16', bytes: 2, typeString: 'uint16' },
  { onnx: 'INT16', oip: 'INT16', ort: 'int16', bytes: 2, typeString: 'int16' },
  { onnx: 'INT32', oip: 'INT32', ort: 'int32', bytes: 4, typeString: 'int32' },
  { onnx: 'INT64', oip: 'INT64', ort: 'int64', bytes: 8, typeString: 'int64' },
  { onnx: 'STRING', oip: 'BYTES', ort: 'string', bytes: undefined, typeString: 'string' },
  { onnx: 'BOOL', oip: 'BOOL', ort: 'bool', bytes: 1, typeString: 'bool' },
  { onnx: 'FLOAT16', oip: 'FP16', ort: 'float16', bytes: 2, typeString: 'float16' },
  { onnx: 'DOUBLE', oip: 'FP64', ort: 'float64', bytes: 8, typeString: 'double' },
  { onnx: 'UINT32', oip: 'UINT32', ort: 'uint32', bytes: 4, typeString: 'uint32' },
  { onnx: 'UINT64', oip: 'UINT64', ort: 'uint64', bytes: 8, typeString: 'uint64' },
  { onnx: 'COMPLEX64', oip: '', ort: undefined, bytes: 8, typeString: 'complex64' },
  { onnx: 'COMPLEX128', oip: '', ort: undefined, bytes: 16, typeString: 'complex128' },
  // The Open Inference Protocol has no bfloat16; Triton's BF16 extension is not part of it.
  { onnx: 'BFLOAT16', oip: '', ort: undefined, bytes: 2, typeString: 'bfloat16' },
  { onnx: 'FLOAT8E4M3FN', oip: '', ort: undefined, bytes: 1, typeString: 'float8e4m3fn' },
  { onnx: 'FLOAT8E4M3FNUZ', oip: '', ort: undefined, bytes: 1, typeString: 'float8e4m3fnuz' },
  { onnx: 'FLOAT8E5M2', oip: '', ort: undefined, bytes: 1, typeString: 'float8e5m2' },
  { onnx: 'FLOAT8E5M2FNUZ', oip: '', ort: undefined, bytes: 1, typeString: 'float8e5m2fnuz' },
  { onnx: 'UINT4', oip: '', ort: 'uint4', bytes: undefined, typeString: 'uint4' },
  { onnx: 'INT4', oip: '', ort: 'int4', bytes: undefined, typeString: 'int4' },
  { onnx: 'FLOAT4E2M1', oip: '', ort: undefined, bytes: undefined, typeString: 'float4e2m1' },
];

const BY_ONNX = new Map<string, TypeRow>(ROWS.map((row) => [row.onnx, row]));
const BY_CODE = new Map<number, TypeRow>(ROWS.map((row) => [ONNX_TENSOR_TYPE_CODES[row.onnx], row]));
const BY_OIP = new Map<string, TypeRow>(ROWS.filter((row) => row.oip !== '').map((row) => [row.oip, row]));
const BY_ORT = new Map<string, TypeRow>(
  ROWS.filter((row) => row.ort !== undefined).map((row) => [row.ort!, row]),
);

/** True when `name` is an ONNX tensor element type name such as `'FLOAT'`. */
export function isOnnxTensorType(name: string): name is OnnxTensorType {
  return BY_ONNX.has(name);
}

/** The ONNX element type name for a `TensorProto.DataType` code, or undefined for an unknown code. */
export function onnxTypeFromCode(code: number): OnnxTensorType | undefined {
  return BY_CODE.get(code)?.onnx;
}

/** The `TensorProto.DataType` code of an ONNX element type name. */
export function onnxTypeCode(onnxType: OnnxTensorType): number {
  return ONNX_TENSOR_TYPE_CODES[onnxType];
}

/**
 * The Open Inference Protocol datatype for an ONNX element type (`'FLOAT'` → `'FP32'`,
 * `'STRING'` → `'BYTES'`), or `''` when the protocol cannot carry it (BFLOAT16, complex, float8,
 * 4-bit types, unknown names).
 */
export function onnxTypeToDatatype(onnxType: string): OipDatatype | '' {
  return BY_ONNX.get(onnxType)?.oip ?? '';
}

/** The ONNX element type for an Open Inference Protocol datatype, or undefined for an unknown one. */
export function datatypeToOnnxType(datatype: string): OnnxTensorType | undefined {
  return BY_OIP.get(datatype)?.onnx;
}

/** The onnxruntime-node tensor type for an ONNX element type (`'DOUBLE'` → `'float64'`), or undefined. */
export function onnxTypeToOrtType(onnxType: string): OrtTensorType | undefined {
  return BY_ONNX.get(onnxType)?.ort;
}

/** The ONNX element type for an onnxruntime-node tensor type, or undefined. */
export function ortTypeToOnnxType(ortType: string): OnnxTensorType | undefined {
  return BY_ORT.get(ortType)?.onnx;
}

/** The onnxruntime-node tensor type for an Open Inference Protocol datatype (`'FP16'` → `'float16'`). */
export function datatypeToOrtType(datatype: string): OrtTensorType | undefined {
  return BY_OIP.get(datatype)?.ort;
}

/** The Open Inference Protocol datatype for an onnxruntime-node tensor type, or `''`. */
export function ortTypeToDatatype(ortType: string): OipDatatype | '' {
  return BY_ORT.get(ortType)?.oip ?? '';
}

/**
 * Bytes per element of an ONNX element type; undefined for STRING (variable width), 4-bit types
 * (two per byte) and unknown names.
 */
export function onnxTypeByteSize(onnxType: string): number | undefined {
  return BY_ONNX.get(onnxType)?.bytes;
}

/** Bytes per element of an Open Inference Protocol datatype; undefined for BYTES and unknown names. */
export function datatypeByteSize(datatype: string): number | undefined {
  return BY_OIP.get(datatype)?.bytes;
}

/** The lower-case ONNX type-string name of an element type (`'FLOAT'` → `'float'`, as in `tensor(float)`). */
export function onnxTypeString(onnxType: string): string {
  return BY_ONNX.get(onnxType)?.typeString ?? onnxType.toLowerCase();
}
