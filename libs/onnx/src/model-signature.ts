import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import {
  onnxTypeFromCode,
  onnxTypeString,
  onnxTypeToDatatype,
  type OipDatatype,
  type OnnxTensorType,
} from './data-types.js';
import { InvalidOnnxModelError } from './errors.js';
import {
  DIMENSION,
  ELEM_TYPE,
  GRAPH,
  MAP_TYPE,
  MODEL,
  OPAQUE_TYPE,
  OPSET_ID,
  SHAPE,
  SPARSE_TENSOR,
  STRING_ENTRY,
  TENSOR,
  TENSOR_TYPE,
  TYPE,
  VALUE_INFO,
} from './onnx-fields.js';

/** One graph input or output as a client sees it. */
export interface TensorSignature {
  readonly name: string;
  /**
   * `'tensor'` for tensors; otherwise the ONNX type string of the value, e.g.
   * `'seq(map(int64,tensor(float)))'` (ZipMap outputs), `'map(string,tensor(float))'`,
   * `'optional(tensor(int64))'`, `'sparse_tensor(float)'`, or `'unknown'` when the model gives no type.
   */
  readonly kind: 'tensor' | (string & {});
  /** ONNX element type (`'FLOAT'`, `'INT64'`, `'STRING'`, ...) of a tensor or sparse tensor; `''` otherwise. */
  readonly onnxType: OnnxTensorType | '';
  /** Open Inference Protocol datatype; `''` for non-tensors and types the protocol cannot carry. */
  readonly datatype: OipDatatype | '';
  /** Dimensions; -1 for symbolic or unknown ones. `[]` for scalars and when the rank is unknown. */
  readonly shape: readonly number[];
  /** Parallel to `shape`: the symbolic name of each dimension (`'batch'`), `''` for fixed or unnamed ones. */
  readonly dimParams: readonly string[];
  /** False when the model declares no shape at all (any rank accepted); `shape` is then `[]`. */
  readonly rankKnown: boolean;
}

/** An operator set the model imports. */
export interface OpsetImport {
  /** `''` is the default ONNX domain (ai.onnx); `'ai.onnx.ml'` holds the classic ML operators. */
  readonly domain: string;
  readonly version: number;
}

/** What a server needs to know about a model without loading it into a runtime. */
export interface ModelSignature {
  readonly irVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  /** ModelProto.domain, e.g. `'ai.onnx'` or a reverse-DNS name; often empty. */
  readonly domain: string;
  readonly docString: string;
  readonly graphName: string;
  readonly opsets: readonly OpsetImport[];
  /** Graph inputs a caller must (or may) feed; initializers listed as inputs by older exporters are left out. */
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  /** ModelProto.metadata_props. */
  readonly metadata: Readonly<Record<string, string>>;
}

// Far above any released IR version (11 in 2025); a larger field 1 means the bytes are not ONNX.
const MAX_PLAUSIBLE_IR_VERSION = 100;

const WIRE_NAMES: Record<number, string> = {
  [WireType.Varint]: 'varint',
  [WireType.Bit64]: '64-bit',
  [WireType.LengthDelimited]: 'length-delimited',
  [WireType.StartGroup]: 'start-group',
  [WireType.EndGroup]: 'end-group',
  [WireType.Bit32]: '32-bit',
};

const utf8 = new TextDecoder();

type ParsedType =
  | {
      readonly kind: 'tensor' | 'sparse_tensor';
      readonly elemType: number;
      readonly shape: ParsedDim[] | undefined;
    }
  | { readonly kind: 'seq' | 'optional'; readonly elem: ParsedType | undefined }
  | { readonly kind: 'map'; readonly keyType: number; readonly value: ParsedType | undefined }
  | { readonly kind: 'opaque'; readonly domain: string; readonly name: string }
  | { readonly kind: 'unknown' };

interface ParsedDim {
  readonly value: number | undefined;
  readonly param: string;
}

/**
 * Reads names, types and shapes of a model's inputs and outputs, its IR version, producer and
 * operator sets, without decoding weights: initializer payloads are skipped, so reading a large
 * model costs little more than reading a small one.
 *
 * @param bytes the contents of a `.onnx` file (a serialized `onnx.ModelProto`)
 * @throws InvalidOnnxModelError when the bytes are not a protobuf ModelProto, are truncated, lack
 *   the IR version, graph or operator set imports, or the graph has no outputs.
 */
export function readModelSignature(bytes: Uint8Array): ModelSignature {
  if (bytes.length === 0) throw new InvalidOnnxModelError('not an ONNX model: the file is empty (0 bytes)');
  const decoder = new MessageDecoder(bytes);
  let irVersion: number | undefined;
  let producerName = '';
  let producerVersion = '';
  let domain = '';
  let docString = '';
  let graphBytes: Uint8Array | undefined;
  const opsets: OpsetImport[] = [];
  const metadata: Record<string, string> = {};

  decoder.fields(bytes, 'ModelProto', (field, wire, at) => {
    switch (field) {
      case MODEL.irVersion:
        irVersion = at.int64(wire, 'field 1 (ir_version)');
        return true;
      case MODEL.producerName:
        producerName = at.string(wire, 'field 2 (producer_name)');
        return true;
      case MODEL.producerVersion:
        producerVersion = at.string(wire, 'field 3 (producer_version)');
        return true;
      case MODEL.domain:
        domain = at.string(wire, 'field 4 (domain)');
        return true;
      case MODEL.docString:
        docString = at.string(wire, 'field 6 (doc_string)');
        return true;
      case MODEL.graph:
        graphBytes = at.message(wire, 'field 7 (graph)');
        return true;
      case MODEL.opsetImport:
        opsets.push(
          decoder.opset(
            at.message(wire, 'field 8 (opset_import)'),
            `ModelProto.opset_import[${opsets.length}]`,
          ),
        );
        return true;
      case MODEL.metadataProps: {
        const [key, value] = decoder.stringEntry(
          at.message(wire, 'field 14 (metadata_props)'),
          'ModelProto.metadata_props',
        );
        metadata[key] = value;
        return true;
      }
      default:
        return false;
    }
  });

  if (irVersion === undefined)
    throw new InvalidOnnxModelError('not an ONNX model: field 1 (ir_version) missing');
  if (irVersion < 1 || irVersion > MAX_PLAUSIBLE_IR_VERSION) {
    throw new InvalidOnnxModelError(
      `not an ONNX model: ir_version ${irVersion} is not a plausible ONNX IR version (expected 1 to ${MAX_PLAUSIBLE_IR_VERSION})`,
    );
  }
  if (graphBytes === undefined) throw new InvalidOnnxModelError('not an ONNX model: field 7 (graph) missing');
  // IR 3 introduced opset_import and made it mandatory; its absence also exposes a file cut short
  // right after the graph.
  if (opsets.length === 0 && irVersion >= 3) {
    throw new InvalidOnnxModelError(
      `invalid ONNX model: field 8 (opset_import) missing; IR version ${irVersion} requires at least one operator set`,
    );
  }

  const graph = decoder.graph(graphBytes);
  const label = graph.name ? `graph "${graph.name}"` : 'the graph';
  if (graph.nodeCount === 0 && graph.outputs.length === 0) {
    throw new InvalidOnnxModelError(`not an ONNX model: ${label} has no nodes and no outputs`);
  }
  if (graph.outputs.length === 0)
    throw new InvalidOnnxModelError(`invalid ONNX model: ${label} declares no outputs`);

  return {
    irVersion,
    producerName,
    producerVersion,
    domain,
    docString,
    graphName: graph.name,
    opsets,
    inputs: graph.inputs.filter((input) => !graph.initializerNames.has(input.name)),
    outputs: graph.outputs,
    metadata,
  };
}

/** Field readers bound to one message, so errors can say where they happened. */
interface FieldAt {
  int64(wire: WireType, what: string): number;
  int32(wire: WireType, what: string): number;
  string(wire: WireType, what: string): string;
  message(wire: WireType, what: string): Uint8Array;
}

class MessageDecoder {
  readonly #root: Uint8Array;

  constructor(root: Uint8Array) {
    this.#root = root;
  }

  /** Calls `onField` for every field of the message in `bytes`; fields it does not take are skipped. */
  fields(
    bytes: Uint8Array,
    path: string,
    onField: (field: number, wire: WireType, at: FieldAt) => boolean,
  ): void {
    const r = new BinaryReader(bytes);
    const offset = bytes.byteOffset - this.#root.byteOffset;
    const where = (what: string) => `${path} ${what}`;
    const expect = (wire: WireType, expected: WireType, what: string) => {
      if (wire !== expected) {
        throw new InvalidOnnxModelError(
          `not an ONNX model: ${where(what)} has wire type ${WIRE_NAMES[wire] ?? wire}, expected ${WIRE_NAMES[expected]}`,
        );
      }
    };
    const lengthDelimited = (wire: WireType, what: string): Uint8Array => {
      expect(wire, WireType.LengthDelimited, what);
      const length = r.uint32();
      const start = r.pos;
      if (start + length > r.len) {
        throw new InvalidOnnxModelError(
          `not an ONNX model (or a truncated file): ${where(what)} at byte ${offset + start} declares ${length} bytes but only ${r.len - start} remain`,
        );
      }
      r.pos = start + length;
      return bytes.subarray(start, start + length);
    };
    const at: FieldAt = {
      int64: (wire, what) => {
        expect(wire, WireType.Varint, what);
        return toSafeNumber(BigInt(r.int64()), where(what));
      },
      int32: (wire, what) => {
        expect(wire, WireType.Varint, what);
        return r.int32();
      },
      string: (wire, what) => utf8.decode(lengthDelimited(wire, what)),
      message: (wire, what) => lengthDelimited(wire, what),
    };
    try {
      while (r.pos < r.len) {
        const [field, wire] = r.tag();
        if (!onField(field, wire, at)) r.skip(wire, field);
      }
    } catch (err) {
      if (err instanceof InvalidOnnxModelError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new InvalidOnnxModelError(
        `not an ONNX model (or a truncated file): malformed protobuf in ${path} near byte ${offset + r.pos}: ${reason}`,
        { cause: err },
      );
    }
  }

  opset(bytes: Uint8Array, path: string): OpsetImport {
    let domain = '';
    let version = 0;
    this.fields(bytes, path, (field, wire, at) => {
      if (field === OPSET_ID.domain) domain = at.string(wire, 'field 1 (domain)');
      else if (field === OPSET_ID.version) version = at.int64(wire, 'field 2 (version)');
      else return false;
      return true;
    });
    return { domain, version };
  }

  stringEntry(bytes: Uint8Array, path: string): [string, string] {
    let key = '';
    let value = '';
    this.fields(bytes, path, (field, wire, at) => {
      if (field === STRING_ENTRY.key) key = at.string(wire, 'field 1 (key)');
      else if (field === STRING_ENTRY.value) value = at.string(wire, 'field 2 (value)');
      else return false;
      return true;
    });
    return [key, value];
  }

  graph(bytes: Uint8Array): {
    name: string;
    nodeCount: number;
    initializerNames: Set<string>;
    inputs: TensorSignature[];
    outputs: TensorSignature[];
  } {
    let name = '';
    let nodeCount = 0;
    const initializerNames = new Set<string>();
    const inputs: TensorSignature[] = [];
    const outputs: TensorSignature[] = [];
    this.fields(bytes, 'GraphProto', (field, wire, at) => {
      switch (field) {
        case GRAPH.node:
          // Only counted: the signature does not depend on the nodes, and skipping them is cheap.
          at.message(wire, 'field 1 (node)');
          nodeCount++;
          return true;
        case GRAPH.name:
          name = at.string(wire, 'field 2 (name)');
          return true;
        case GRAPH.initializer:
          initializerNames.add(
            this.tensorName(at.message(wire, 'field 5 (initializer)'), `GraphProto.initializer`),
          );
          return true;
        case GRAPH.sparseInitializer:
          initializerNames.add(this.sparseTensorName(at.message(wire, 'field 15 (sparse_initializer)')));
          return true;
        case GRAPH.input:
          inputs.push(
            this.valueInfo(at.message(wire, 'field 11 (input)'), `GraphProto.input[${inputs.length}]`),
          );
          return true;
        case GRAPH.output:
          outputs.push(
            this.valueInfo(at.message(wire, 'field 12 (output)'), `GraphProto.output[${outputs.length}]`),
          );
          return true;
        default:
          return false;
      }
    });
    return { name, nodeCount, initializerNames, inputs, outputs };
  }

  /** Reads only the name; raw_data and the other payload fields are skipped without copying. */
  tensorName(bytes: Uint8Array, path: string): string {
    let name = '';
    this.fields(bytes, path, (field, wire, at) => {
      if (field !== TENSOR.name) return false;
      name = at.string(wire, 'field 8 (name)');
      return true;
    });
    return name;
  }

  sparseTensorName(bytes: Uint8Array): string {
    let name = '';
    this.fields(bytes, 'GraphProto.sparse_initializer', (field, wire, at) => {
      if (field !== SPARSE_TENSOR.values) return false;
      name = this.tensorName(at.message(wire, 'field 1 (values)'), 'GraphProto.sparse_initializer.values');
      return true;
    });
    return name;
  }

  valueInfo(bytes: Uint8Array, path: string): TensorSignature {
    let name: string | undefined;
    let type: ParsedType = { kind: 'unknown' };
    this.fields(bytes, path, (field, wire, at) => {
      if (field === VALUE_INFO.name) name = at.string(wire, 'field 1 (name)');
      else if (field === VALUE_INFO.type)
        type = this.type(at.message(wire, 'field 2 (type)'), `${path}.type`);
      else return false;
      return true;
    });
    if (!name) throw new InvalidOnnxModelError(`invalid ONNX model: ${path} has no name`);
    return toSignature(name, type);
  }

  type(bytes: Uint8Array, path: string): ParsedType {
    let type: ParsedType = { kind: 'unknown' };
    this.fields(bytes, path, (field, wire, at) => {
      switch (field) {
        case TYPE.tensorType:
          type = this.tensorType('tensor', at.message(wire, 'field 1 (tensor_type)'), `${path}.tensor_type`);
          return true;
        case TYPE.sparseTensorType:
          type = this.tensorType(
            'sparse_tensor',
            at.message(wire, 'field 8 (sparse_tensor_type)'),
            `${path}.sparse_tensor_type`,
          );
          return true;
        case TYPE.sequenceType:
          type = {
            kind: 'seq',
            elem: this.elemType(at.message(wire, 'field 4 (sequence_type)'), `${path}.sequence_type`),
          };
          return true;
        case TYPE.optionalType:
          type = {
            kind: 'optional',
            elem: this.elemType(at.message(wire, 'field 9 (optional_type)'), `${path}.optional_type`),
          };
          return true;
        case TYPE.mapType:
          type = this.mapType(at.message(wire, 'field 5 (map_type)'), `${path}.map_type`);
          return true;
        case TYPE.opaqueType:
          type = this.opaqueType(at.message(wire, 'field 7 (opaque_type)'), `${path}.opaque_type`);
          return true;
        default:
          return false;
      }
    });
    return type;
  }

  tensorType(kind: 'tensor' | 'sparse_tensor', bytes: Uint8Array, path: string): ParsedType {
    let elemType = 0;
    let shape: ParsedDim[] | undefined;
    this.fields(bytes, path, (field, wire, at) => {
      if (field === TENSOR_TYPE.elemType) elemType = at.int32(wire, 'field 1 (elem_type)');
      else if (field === TENSOR_TYPE.shape)
        shape = this.shape(at.message(wire, 'field 2 (shape)'), `${path}.shape`);
      else return false;
      return true;
    });
    return { kind, elemType, shape };
  }

  elemType(bytes: Uint8Array, path: string): ParsedType | undefined {
    let elem: ParsedType | undefined;
    this.fields(bytes, path, (field, wire, at) => {
      if (field !== ELEM_TYPE.elemType) return false;
      elem = this.type(at.message(wire, 'field 1 (elem_type)'), `${path}.elem_type`);
      return true;
    });
    return elem;
  }

  mapType(bytes: Uint8Array, path: string): ParsedType {
    let keyType = 0;
    let value: ParsedType | undefined;
    this.fields(bytes, path, (field, wire, at) => {
      if (field === MAP_TYPE.keyType) keyType = at.int32(wire, 'field 1 (key_type)');
      else if (field === MAP_TYPE.valueType)
        value = this.type(at.message(wire, 'field 2 (value_type)'), `${path}.value_type`);
      else return false;
      return true;
    });
    return { kind: 'map', keyType, value };
  }

  opaqueType(bytes: Uint8Array, path: string): ParsedType {
    let domain = '';
    let name = '';
    this.fields(bytes, path, (field, wire, at) => {
      if (field === OPAQUE_TYPE.domain) domain = at.string(wire, 'field 1 (domain)');
      else if (field === OPAQUE_TYPE.name) name = at.string(wire, 'field 2 (name)');
      else return false;
      return true;
    });
    return { kind: 'opaque', domain, name };
  }

  shape(bytes: Uint8Array, path: string): ParsedDim[] {
    const dims: ParsedDim[] = [];
    this.fields(bytes, path, (field, wire, at) => {
      if (field !== SHAPE.dim) return false;
      const dimPath = `${path}.dim[${dims.length}]`;
      let value: number | undefined;
      let param = '';
      this.fields(at.message(wire, 'field 1 (dim)'), dimPath, (dimField, dimWire, dimAt) => {
        if (dimField === DIMENSION.dimValue) {
          value = dimAt.int64(dimWire, 'field 1 (dim_value)');
          param = '';
        } else if (dimField === DIMENSION.dimParam) {
          param = dimAt.string(dimWire, 'field 2 (dim_param)');
          value = undefined;
        } else return false;
        return true;
      });
      dims.push({ value, param });
      return true;
    });
    return dims;
  }
}

function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new InvalidOnnxModelError(`not an ONNX model: ${what} is ${value}, out of range`);
  }
  return Number(value);
}

function elemTypeName(code: number): OnnxTensorType | '' {
  return onnxTypeFromCode(code) ?? '';
}

function elemTypeString(code: number): string {
  const name = onnxTypeFromCode(code);
  return name === undefined ? `unknown_type_${code}` : onnxTypeString(name);
}

/** The ONNX type string, as onnxruntime and the ONNX docs write it: `seq(map(int64,tensor(float)))`. */
function typeString(type: ParsedType | undefined): string {
  if (type === undefined) return 'unknown';
  switch (type.kind) {
    case 'tensor':
    case 'sparse_tensor':
      return `${type.kind}(${elemTypeString(type.elemType)})`;
    case 'seq':
    case 'optional':
      return `${type.kind}(${typeString(type.elem)})`;
    case 'map':
      return `map(${elemTypeString(type.keyType)},${typeString(type.value)})`;
    case 'opaque':
      return `opaque(${type.domain},${type.name})`;
    case 'unknown':
      return 'unknown';
  }
}

function toSignature(name: string, type: ParsedType): TensorSignature {
  if (type.kind !== 'tensor' && type.kind !== 'sparse_tensor') {
    return {
      name,
      kind: typeString(type),
      onnxType: '',
      datatype: '',
      shape: [],
      dimParams: [],
      rankKnown: false,
    };
  }
  const onnxType = elemTypeName(type.elemType);
  const dims = type.shape;
  return {
    name,
    kind: type.kind === 'tensor' ? 'tensor' : typeString(type),
    onnxType,
    datatype: type.kind === 'tensor' ? onnxTypeToDatatype(onnxType) : '',
    shape:
      dims === undefined
        ? []
        : dims.map((dim) => (dim.value === undefined || dim.value < 0 ? -1 : dim.value)),
    dimParams: dims === undefined ? [] : dims.map((dim) => dim.param),
    rankKnown: dims !== undefined,
  };
}
