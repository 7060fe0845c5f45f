import { onnxTypeByteSize, type OnnxTensorType } from './data-types.js';
import { InvalidModelSpecError } from './errors.js';
import type { OpsetImport } from './model-signature.js';

/** A dimension: a size, a symbolic name such as `'batch'`, or null for an unnamed unknown size. */
export type DimSpec = number | string | null;

/** The type of a graph input, output or intermediate value. */
export type TypeSpec =
  /** `shape` undefined means the rank is unknown; `[]` is a scalar. */
  | { readonly kind: 'tensor'; readonly elemType: OnnxTensorType; readonly shape?: readonly DimSpec[] }
  | { readonly kind: 'sequence'; readonly elem: TypeSpec }
  | { readonly kind: 'map'; readonly keyType: OnnxTensorType; readonly value: TypeSpec }
  | { readonly kind: 'optional'; readonly elem: TypeSpec };

/** A named, typed value (ONNX ValueInfoProto). */
export interface ValueInfoSpec {
  readonly name: string;
  readonly type: TypeSpec;
  readonly docString?: string;
}

/** A tensor constant (ONNX TensorProto). Build one with {@link createTensor}. */
export interface TensorSpec {
  readonly name?: string;
  readonly dataType: OnnxTensorType;
  readonly dims: readonly number[];
  /** Little-endian element bytes, for every type but STRING. */
  readonly rawData?: Uint8Array;
  /** STRING elements. */
  readonly stringData?: readonly (string | Uint8Array)[];
  readonly docString?: string;
}

/** A node attribute value, tagged with its ONNX attribute type. Build with {@link attr}. */
export type AttributeSpec =
  | { readonly type: 'int'; readonly value: number | bigint }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'string'; readonly value: string | Uint8Array }
  | { readonly type: 'tensor'; readonly value: TensorSpec }
  | { readonly type: 'graph'; readonly value: GraphSpec }
  | { readonly type: 'ints'; readonly value: readonly (number | bigint)[] }
  | { readonly type: 'floats'; readonly value: readonly number[] | Float32Array }
  | { readonly type: 'strings'; readonly value: readonly (string | Uint8Array)[] };

/** One operator application (ONNX NodeProto). */
export interface NodeSpec {
  readonly opType: string;
  /** Value names; `''` marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  /** `''` (default) for ai.onnx, `'ai.onnx.ml'` for the classic ML operators. */
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, AttributeSpec>>;
  readonly docString?: string;
}

/** A computation graph (ONNX GraphProto); nodes must be in topological order. */
export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly initializers?: readonly TensorSpec[];
  readonly inputs: readonly ValueInfoSpec[];
  readonly outputs: readonly ValueInfoSpec[];
  readonly valueInfo?: readonly ValueInfoSpec[];
  readonly docString?: string;
}

/** A whole model (ONNX ModelProto), as plain data. */
export interface ModelSpec {
  readonly irVersion: number;
  readonly opsets: readonly OpsetImport[];
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly domain?: string;
  readonly modelVersion?: number | bigint;
  readonly docString?: string;
  /** Written as ModelProto.metadata_props. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly graph: GraphSpec;
}

/** Element arrays {@link createTensor} accepts. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | readonly string[];

function defaultDataType(data: TensorData): OnnxTensorType {
  if (data instanceof Float32Array) return 'FLOAT';
  if (data instanceof Float64Array) return 'DOUBLE';
  if (data instanceof Int8Array) return 'INT8';
  if (data instanceof Int16Array) return 'INT16';
  if (data instanceof Int32Array) return 'INT32';
  if (data instanceof BigInt64Array) return 'INT64';
  if (data instanceof Uint8Array) return 'UINT8';
  if (data instanceof Uint16Array) return 'UINT16';
  if (data instanceof Uint32Array) return 'UINT32';
  if (data instanceof BigUint64Array) return 'UINT64';
  return 'STRING';
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A tensor constant from a typed array. The element type follows the array (Float32Array → FLOAT,
 * Float64Array → DOUBLE, BigInt64Array → INT64, Int32Array → INT32, string[] → STRING, ...);
 * pass `dataType` for types sharing an array, e.g. Uint8Array as `'BOOL'` or Uint16Array as
 * `'FLOAT16'`. The data is copied.
 *
 * @throws InvalidModelSpecError when the element count does not match `dims`, or `dataType` does
 *   not fit the array.
 */
export function createTensor(
  name: string,
  data: TensorData,
  dims: readonly number[],
  dataType: OnnxTensorType = defaultDataType(data),
): TensorSpec {
  for (const dim of dims) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new InvalidModelSpecError(
        `tensor "${name}": dimension ${dim} in [${dims.join(', ')}] is not a non-negative integer`,
      );
    }
  }
  const count = dims.reduce((product, dim) => product * dim, 1);
  if (data.length !== count) {
    throw new InvalidModelSpecError(
      `tensor "${name}": shape [${dims.join(', ')}] holds ${count} elements but ${data.length} were given`,
    );
  }
  if (!ArrayBuffer.isView(data)) {
    if (dataType !== 'STRING') {
      throw new InvalidModelSpecError(
        `tensor "${name}": strings can only make a STRING tensor, not ${dataType}`,
      );
    }
    return { name, dataType, dims: [...dims], stringData: [...data] };
  }
  const width = data.BYTES_PER_ELEMENT;
  if (onnxTypeByteSize(dataType) !== width) {
    throw new InvalidModelSpecError(
      `tensor "${name}": a ${data.constructor.name} (${width} bytes per element) cannot hold ${dataType}`,
    );
  }
  const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  // ONNX raw_data is little-endian whatever the host is.
  if (!LITTLE_ENDIAN && width > 1) {
    for (let start = 0; start < rawData.length; start += width)
      rawData.subarray(start, start + width).reverse();
  }
  return { name, dataType, dims: [...dims], rawData };
}

function checkInt(value: number | bigint, what: string): number | bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new InvalidModelSpecError(`${what} must be an integer, got ${value}`);
  }
  return value;
}

/**
 * Typed attribute values for {@link GraphBuilder.node}: ONNX operators check attribute types
 * exactly (Gemm's `alpha` must be a float even when it is 1), so the type is always explicit.
 */
export const attr = {
  int: (value: number | bigint): AttributeSpec => ({ type: 'int', value: checkInt(value, 'int attribute') }),
  float: (value: number): AttributeSpec => ({ type: 'float', value }),
  string: (value: string | Uint8Array): AttributeSpec => ({ type: 'string', value }),
  tensor: (value: TensorSpec): AttributeSpec => ({ type: 'tensor', value }),
  graph: (value: GraphSpec): AttributeSpec => ({ type: 'graph', value }),
  ints: (value: readonly (number | bigint)[]): AttributeSpec => ({
    type: 'ints',
    value: value.map((item) => checkInt(item, 'ints attribute element')),
  }),
  floats: (value: readonly number[] | Float32Array): AttributeSpec => ({ type: 'floats', value }),
  strings: (value: readonly (string | Uint8Array)[]): AttributeSpec => ({ type: 'strings', value }),
} as const;
