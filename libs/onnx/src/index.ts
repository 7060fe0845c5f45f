export { InvalidOnnxModelError, InvalidModelSpecError } from './errors.js';
export {
  ONNX_TENSOR_TYPE_CODES,
  datatypeByteSize,
  datatypeToOnnxType,
  datatypeToOrtType,
  isOnnxTensorType,
  onnxTypeByteSize,
  onnxTypeCode,
  onnxTypeFromCode,
  onnxTypeString,
  onnxTypeToDatatype,
  onnxTypeToOrtType,
  ortTypeToDatatype,
  ortTypeToOnnxType,
  type OipDatatype,
  type OnnxTensorType,
  type OrtTensorType,
} from './data-types.js';
export {
  readModelSignature,
  type ModelSignature,
  type OpsetImport,
  type TensorSignature,
} from './model-signature.js';
export {
  attr,
  createTensor,
  type AttributeSpec,
  type DimSpec,
  type GraphSpec,
  type ModelSpec,
  type NodeSpec,
  type TensorData,
  type TensorSpec,
  type TypeSpec,
  type ValueInfoSpec,
} from './model-spec.js';
export { encodeModel } from './model-encoder.js';
export {
  createGraphBuilder,
  DEFAULT_IR_VERSION,
  DEFAULT_ONNX_ML_OPSET,
  DEFAULT_ONNX_OPSET,
  type GraphBuilder,
  type GraphBuilderOptions,
  type NodeOptions,
} from './graph-builder.js';
export type { BuiltModel } from './built-model.js';
export {
  buildMlp,
  MLP_PRESETS,
  type BuiltMlp,
  type MlpActivation,
  type MlpLayer,
  type MlpOptions,
  type MlpOutputActivation,
} from './mlp.js';
export { buildLogisticRegression, type LogisticRegressionOptions } from './logistic-regression.js';
export {
  buildTreeEnsemble,
  type TreeEnsembleOptions,
  type TreeNodeSpec,
  type TreeSpec,
} from './tree-ensemble.js';
export { createSeededRandom, type SeededRandom } from './seeded-random.js';
