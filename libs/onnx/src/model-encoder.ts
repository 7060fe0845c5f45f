import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { onnxTypeCode } from './data-types.js';
import type {
  AttributeSpec,
  GraphSpec,
  ModelSpec,
  NodeSpec,
  TensorSpec,
  TypeSpec,
  ValueInfoSpec,
} from './model-spec.js';
import {
  ATTRIBUTE,
  ATTRIBUTE_TYPE,
  DIMENSION,
  ELEM_TYPE,
  GRAPH,
  MAP_TYPE,
  MODEL,
  NODE,
  OPSET_ID,
  SHAPE,
  STRING_ENTRY,
  TENSOR,
  TENSOR_TYPE,
  TYPE,
  VALUE_INFO,
} from './onnx-fields.js';

const LD = WireType.LengthDelimited;
const utf8 = new TextEncoder();

/**
 * Serializes a model description to the bytes of a `.onnx` file (ONNX ModelProto). Fields are
 * written in field-number order, as the reference C++ serializer does, so equal specs give
 * byte-identical files. The spec is written as given; {@link createGraphBuilder} checks it first.
 */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const w = new BinaryWriter();
  w.tag(MODEL.irVersion, WireType.Varint).int64(spec.irVersion);
  optionalString(w, MODEL.producerName, spec.producerName);
  optionalString(w, MODEL.producerVersion, spec.producerVersion);
  optionalString(w, MODEL.domain, spec.domain);
  if (spec.modelVersion !== undefined) w.tag(MODEL.modelVersion, WireType.Varint).int64(spec.modelVersion);
  optionalString(w, MODEL.docString, spec.docString);
  w.tag(MODEL.graph, LD).fork();
  writeGraph(w, spec.graph);
  w.join();
  for (const opset of spec.opsets) {
    w.tag(MODEL.opsetImport, LD).fork();
    w.tag(OPSET_ID.domain, LD).string(opset.domain);
    w.tag(OPSET_ID.version, WireType.Varint).int64(opset.version);
    w.join();
  }
  for (const [key, value] of Object.entries(spec.metadata ?? {})) {
    w.tag(MODEL.metadataProps, LD).fork();
    w.tag(STRING_ENTRY.key, LD).string(key);
    w.tag(STRING_ENTRY.value, LD).string(value);
    w.join();
  }
  return w.finish();
}

function optionalString(w: BinaryWriter, field: number, value: string | undefined): void {
  if (value !== undefined && value !== '') w.tag(field, LD).string(value);
}

function bytesOf(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? utf8.encode(value) : value;
}

function writeGraph(w: BinaryWriter, graph: GraphSpec): void {
  for (const node of graph.nodes) {
    w.tag(GRAPH.node, LD).fork();
    writeNode(w, node);
    w.join();
  }
  optionalString(w, GRAPH.name, graph.name);
  for (const tensor of graph.initializers ?? []) {
    w.tag(GRAPH.initializer, LD).fork();
    writeTensor(w, tensor);
    w.join();
  }
  optionalString(w, GRAPH.docString, graph.docString);
  const valueInfos: [number, readonly ValueInfoSpec[] | undefined][] = [
    [GRAPH.input, graph.inputs],
    [GRAPH.output, graph.outputs],
    [GRAPH.valueInfo, graph.valueInfo],
  ];
  for (const [field, infos] of valueInfos) {
    for (const info of infos ?? []) {
      w.tag(field, LD).fork();
      w.tag(VALUE_INFO.name, LD).string(info.name);
      w.tag(VALUE_INFO.type, LD).fork();
      writeType(w, info.type);
      w.join();
      optionalString(w, VALUE_INFO.docString, info.docString);
      w.join();
    }
  }
}

function writeNode(w: BinaryWriter, node: NodeSpec): void {
  for (const input of node.inputs) w.tag(NODE.input, LD).string(input);
  for (const output of node.outputs) w.tag(NODE.output, LD).string(output);
  optionalString(w, NODE.name, node.name);
  w.tag(NODE.opType, LD).string(node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    w.tag(NODE.attribute, LD).fork();
    writeAttribute(w, name, value);
    w.join();
  }
  optionalString(w, NODE.docString, node.docString);
  optionalString(w, NODE.domain, node.domain);
}

function writeAttribute(w: BinaryWriter, name: string, spec: AttributeSpec): void {
  w.tag(ATTRIBUTE.name, LD).string(name);
  let type: number;
  // Repeated scalars are written unpacked: AttributeProto is proto2 without [packed = true].
  switch (spec.type) {
    case 'float':
      w.tag(ATTRIBUTE.f, WireType.Bit32).float(spec.value);
      type = ATTRIBUTE_TYPE.FLOAT;
      break;
    case 'int':
      w.tag(ATTRIBUTE.i, WireType.Varint).int64(spec.value);
      type = ATTRIBUTE_TYPE.INT;
      break;
    case 'string':
      w.tag(ATTRIBUTE.s, LD).bytes(bytesOf(spec.value));
      type = ATTRIBUTE_TYPE.STRING;
      break;
    case 'tensor':
      w.tag(ATTRIBUTE.t, LD).fork();
      writeTensor(w, spec.value);
      w.join();
      type = ATTRIBUTE_TYPE.TENSOR;
      break;
    case 'graph':
      w.tag(ATTRIBUTE.g, LD).fork();
      writeGraph(w, spec.value);
      w.join();
      type = ATTRIBUTE_TYPE.GRAPH;
      break;
    case 'floats':
      for (const value of spec.value) w.tag(ATTRIBUTE.floats, WireType.Bit32).float(value);
      type = ATTRIBUTE_TYPE.FLOATS;
      break;
    case 'ints':
      for (const value of spec.value) w.tag(ATTRIBUTE.ints, WireType.Varint).int64(value);
      type = ATTRIBUTE_TYPE.INTS;
      break;
    case 'strings':
      for (const value of spec.value) w.tag(ATTRIBUTE.strings, LD).bytes(bytesOf(value));
      type = ATTRIBUTE_TYPE.STRINGS;
      break;
  }
  w.tag(ATTRIBUTE.type, WireType.Varint).int32(type);
}

function writeTensor(w: BinaryWriter, tensor: TensorSpec): void {
  for (const dim of tensor.dims) w.tag(TENSOR.dims, WireType.Varint).int64(dim);
  w.tag(TENSOR.dataType, WireType.Varint).int32(onnxTypeCode(tensor.dataType));
  for (const value of tensor.stringData ?? []) w.tag(TENSOR.stringData, LD).bytes(bytesOf(value));
  optionalString(w, TENSOR.name, tensor.name);
  if (tensor.rawData !== undefined) w.tag(TENSOR.rawData, LD).bytes(tensor.rawData);
  optionalString(w, TENSOR.docString, tensor.docString);
}

function writeType(w: BinaryWriter, type: TypeSpec): void {
  switch (type.kind) {
    case 'tensor':
      w.tag(TYPE.tensorType, LD).fork();
      w.tag(TENSOR_TYPE.elemType, WireType.Varint).int32(onnxTypeCode(type.elemType));
      if (type.shape !== undefined) {
        w.tag(TENSOR_TYPE.shape, LD).fork();
        for (const dim of type.shape) {
          w.tag(SHAPE.dim, LD).fork();
          if (typeof dim === 'number') w.tag(DIMENSION.dimValue, WireType.Varint).int64(dim);
          else if (typeof dim === 'string') w.tag(DIMENSION.dimParam, LD).string(dim);
          w.join();
        }
        w.join();
      }
      w.join();
      return;
    case 'sequence':
    case 'optional':
      w.tag(type.kind === 'sequence' ? TYPE.sequenceType : TYPE.optionalType, LD).fork();
      w.tag(ELEM_TYPE.elemType, LD).fork();
      writeType(w, type.elem);
      w.join();
      w.join();
      return;
    case 'map':
      w.tag(TYPE.mapType, LD).fork();
      w.tag(MAP_TYPE.keyType, WireType.Varint).int32(onnxTypeCode(type.keyType));
      w.tag(MAP_TYPE.valueType, LD).fork();
      writeType(w, type.value);
      w.join();
      w.join();
      return;
  }
}
