/**
 * `@slipway/model-runtime`: model execution shared by online, batch and stream inference —
 * verified loading, onnxruntime sessions (in-process or in worker threads), the tensor codec
 * between the Open Inference Protocol and onnxruntime, and a dynamic batcher. No transport here.
 */
export {
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
  FailedPreconditionError,
} from '@slipway/errors';
export {
  DATATYPES,
  datatypeInfo,
  type Datatype,
  type DatatypeInfo,
  type TensorBuffer,
  type NumericArray,
} from './datatypes.js';
export {
  buildModelSignature,
  formatShape,
  type ModelSignature,
  type TensorSignature,
  type SkippedOutput,
  type SessionMetadata,
  type DeclaredValue,
  type DeclaredValues,
} from './model-signature.js';
export {
  BINARY_DATA_OUTPUT_PARAMETER,
  decodeInferRequest,
  encodeInferResponse,
  type CodecModel,
  type DecodeOptions,
  type DecodedInput,
  type DecodedRequest,
  type EncodeArgs,
  type HostTensor,
} from './tensor-codec.js';
export {
  createExecutor,
  type Executor,
  type ExecutorKind,
  type ExecutorOptions,
  type ExecutionInputs,
  type ExecutionResult,
  type SessionConfig,
} from './executor.js';
export { createInProcessExecutor } from './in-process-executor.js';
export { createWorkerPoolExecutor, type WorkerPoolOptions } from './worker-pool-executor.js';
export {
  createBatcher,
  type Batcher,
  type BatcherOptions,
  type BatchResult,
  type CreateBatcherArgs,
  type InferTiming,
} from './batcher.js';
export {
  loadModel,
  type InferOptions,
  type InferOutcome,
  type LoadedModel,
  type LoadModelOptions,
  type ModelSource,
  type WarmupReport,
} from './model-loader.js';
export { benchExecutors, type BenchExecutorsOptions, type ExecutorBenchResult } from './bench-executors.js';
export { createTabularScorer, type TabularScorer } from './tabular-scorer.js';
