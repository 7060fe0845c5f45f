// Field numbers of the ONNX messages this package reads and writes, copied from
// ../proto/onnx.proto (the tests check them against that file with protobufjs).

export const MODEL = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  domain: 4,
  modelVersion: 5,
  docString: 6,
  graph: 7,
  opsetImport: 8,
  metadataProps: 14,
} as const;

export const OPSET_ID = { domain: 1, version: 2 } as const;

export const STRING_ENTRY = { key: 1, value: 2 } as const;

export const GRAPH = {
  node: 1,
  name: 2,
  initializer: 5,
  docString: 10,
  input: 11,
  output: 12,
  valueInfo: 13,
  sparseInitializer: 15,
} as const;

export const NODE = {
  input: 1,
  output: 2,
  name: 3,
  opType: 4,
  attribute: 5,
  docString: 6,
  domain: 7,
} as const;

export const ATTRIBUTE = {
  name: 1,
  f: 2,
  i: 3,
  s: 4,
  t: 5,
  g: 6,
  floats: 7,
  ints: 8,
  strings: 9,
  docString: 13,
  type: 20,
} as const;

/** AttributeProto.AttributeType values. */
export const ATTRIBUTE_TYPE = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

export const TENSOR = {
  dims: 1,
  dataType: 2,
  stringData: 6,
  name: 8,
  rawData: 9,
  docString: 12,
} as const;

export const SPARSE_TENSOR = { values: 1 } as const;

export const VALUE_INFO = { name: 1, type: 2, docString: 3 } as const;

export const TYPE = {
  tensorType: 1,
  sequenceType: 4,
  mapType: 5,
  opaqueType: 7,
  sparseTensorType: 8,
  optionalType: 9,
} as const;

/** Shared by TypeProto.Tensor and TypeProto.SparseTensor. */
export const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;

/** Shared by TypeProto.Sequence and TypeProto.Optional. */
export const ELEM_TYPE = { elemType: 1 } as const;

export const MAP_TYPE = { keyType: 1, valueType: 2 } as const;

export const OPAQUE_TYPE = { domain: 1, name: 2 } as const;

export const SHAPE = { dim: 1 } as const;

export const DIMENSION = { dimValue: 1, dimParam: 2 } as const;
