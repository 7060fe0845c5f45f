import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { inference } from '@slipway/contracts';
import { readModelSignature } from '@slipway/onnx';
import { createBatcher, type Batcher, type BatcherOptions, type InferTiming } from './batcher.js';
import { datatypeInfo } from './datatypes.js';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from '@slipway/errors';
import {
  createExecutor,
  type Executor,
  type ExecutorKind,
  type ExecutorOptions,
  type SessionConfig,
} from './executor.js';
import {
  buildModelSignature,
  type DeclaredValues,
  type ModelSignature,
  type TensorSignature,
} from './model-signature.js';
import { decodeInferRequest, encodeInferResponse, type DecodedInput } from './tensor-codec.js';

/**
 * Verified loading of ONNX models into onnxruntime sessions.
 *
 * Loading checks the artifact's sha256 before onnxruntime ever parses it, creates the session(s),
 * builds the served signature, and runs one warm-up inference; a model that fails any step is
 * refused with the reason, so it never receives traffic.
 *
 * Non-tensor values: onnxruntime-node can neither feed nor fetch maps and sequences. A model with
 * a non-tensor INPUT (e.g. a DictVectorizer pipeline taking `map(int64,tensor(float))`) is refused
 * at load. Non-tensor OUTPUTS (ZipMap's `seq(map(...))` probabilities in scikit-learn classifiers)
 * are not served: only the tensor outputs are, and `signature.skippedOutputs` lists each skipped
 * output with its type and the reason, for model metadata. Requesting a skipped output is an
 * InvalidArgumentError that says why. A model left with no tensor output at all is refused.
 */

/** Where the model bytes come from: in memory, or a file. */
export type ModelSource =
  | { readonly bytes: Uint8Array; readonly path?: undefined }
  | { readonly path: string; readonly bytes?: undefined };

/** What to load and how to run it. */
export type LoadModelOptions = ModelSource & {
  readonly name: string;
  readonly version: string;
  /** Hex sha256 the artifact must have (from the registry); checked before a session is created. */
  readonly expectedSha256?: string | undefined;
  readonly sessionOptions?: SessionConfig | undefined;
  /** Where sessions run. Default: in-process. */
  readonly executor?: ExecutorOptions | undefined;
  /** Dynamic batching; undefined runs every request alone. */
  readonly batching?: BatcherOptions | undefined;
  /** Default answer form when a request has no `binary_data_output` parameter (default: mirror the request). */
  readonly rawOutput?: boolean | undefined;
  /**
   * Warm-up: true (default) runs synthetic inputs (dynamic dims 1, zeros, empty strings); a
   * request runs that request instead (needed when an input's rank is unknown); false skips it.
   */
  readonly warmup?: boolean | inference.ModelInferRequest | undefined;
};

/** How the warm-up went. */
export interface WarmupReport {
  readonly ran: boolean;
  /** Why it did not run, when it did not. */
  readonly skippedReason?: string;
}

/** Per-call options of infer. */
export interface InferOptions {
  /** Overrides the model's default answer form (a request's `binary_data_output` still wins). */
  readonly rawOutput?: boolean;
}

/** An inference answer and how it was computed. */
export interface InferOutcome {
  readonly response: inference.ModelInferResponse;
  readonly timing: InferTiming;
}

/** A model version ready to serve. */
export interface LoadedModel {
  readonly name: string;
  readonly version: string;
  /** Hex sha256 of the loaded artifact. */
  readonly sha256: string;
  readonly signature: ModelSignature;
  readonly platform: 'onnxruntime_onnx';
  readonly executor: ExecutorKind;
  readonly batching: BatcherOptions | undefined;
  readonly warmup: WarmupReport;
  /** Runs one Open Inference Protocol request. Rejects with InvalidArgumentError for malformed requests. */
  infer(request: inference.ModelInferRequest, options?: InferOptions): Promise<inference.ModelInferResponse>;
  /** Like infer, with the queue/batch/inference timing of the request. */
  inferWithTiming(request: inference.ModelInferRequest, options?: InferOptions): Promise<InferOutcome>;
  /** ModelMetadata for this version (served tensors only; see `signature.skippedOutputs`). */
  metadata(): inference.ModelMetadataResponse;
  /** Drains queued and running requests, then releases the sessions. Idempotent. */
  close(): Promise<void>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readSource(options: LoadModelOptions, label: string): Promise<Uint8Array> {
  if (options.bytes && options.path !== undefined)
    throw new InvalidArgumentError(`${label}: give either bytes or path, not both`);
  if (options.bytes) return options.bytes;
  if (options.path === undefined)
    throw new InvalidArgumentError(`${label}: give the model as bytes or as a path`);
  try {
    return await readFile(options.path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(
        `${label}: model file "${options.path}" does not exist; fetch the artifact first`,
        { cause: error },
      );
    }
    throw error;
  }
}

function syntheticInputs(signature: ModelSignature): Map<string, DecodedInput> | string {
  const inputs = new Map<string, DecodedInput>();
  for (const input of signature.inputs) {
    if (!input.rankKnown)
      return `input "${input.name}" has no declared shape, so no synthetic input can be made; pass a warm-up request`;
    const dims = input.shape.map((d) => (d < 0 ? 1 : d));
    const count = dims.reduce((n, d) => n * d, 1);
    const info = datatypeInfo(input.datatype);
    const data = info?.arrayType ? new info.arrayType(count) : Array.from({ length: count }, () => '');
    inputs.set(input.name, { datatype: input.datatype, dims, data, owned: true });
  }
  return inputs;
}

function tensorMetadata(t: TensorSignature): inference.ModelMetadataResponse_TensorMetadata {
  return { name: t.name, datatype: t.datatype, shape: t.shape.map((d) => BigInt(d)) };
}

function isTyped(error: unknown): boolean {
  return (
    error instanceof InvalidArgumentError ||
    error instanceof NotFoundError ||
    error instanceof UnavailableError ||
    error instanceof FailedPreconditionError
  );
}

class OnnxModel implements LoadedModel {
  readonly platform = 'onnxruntime_onnx' as const;
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly signature: ModelSignature;
  readonly executor: ExecutorKind;
  readonly batching: BatcherOptions | undefined;
  warmup: WarmupReport = { ran: false, skippedReason: 'not run yet' };
  readonly #executor: Executor;
  readonly #batcher: Batcher;
  readonly #rawOutput: boolean | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: LoadModelOptions, sha256: string, signature: ModelSignature, executor: Executor) {
    this.name = options.name;
    this.version = options.version;
    this.sha256 = sha256;
    this.signature = signature;
    this.executor = executor.kind;
    this.batching = options.batching;
    this.#executor = executor;
    this.#rawOutput = options.rawOutput;
    this.#batcher = createBatcher({ signature, executor, options: options.batching });
  }

  async warmUp(warmup: LoadModelOptions['warmup']): Promise<void> {
    if (warmup === false) {
      this.warmup = { ran: false, skippedReason: 'disabled by option' };
      return;
    }
    if (warmup !== undefined && warmup !== true) {
      await this.inferWithTiming(warmup);
      this.warmup = { ran: true };
      return;
    }
    const inputs = syntheticInputs(this.signature);
    if (typeof inputs === 'string') {
      this.warmup = { ran: false, skippedReason: inputs };
      return;
    }
    await this.#executor.run(
      inputs,
      this.signature.outputs.map((o) => o.name),
    );
    this.warmup = { ran: true };
  }

  infer(request: inference.ModelInferRequest, options?: InferOptions): Promise<inference.ModelInferResponse> {
    return this.inferWithTiming(request, options).then((outcome) => outcome.response);
  }

  async inferWithTiming(
    request: inference.ModelInferRequest,
    options: InferOptions = {},
  ): Promise<InferOutcome> {
    if (this.#closed)
      throw new UnavailableError(
        `model "${this.name}" version "${this.version}" is unloaded; route the request to a ready replica`,
      );
    const rawOutput = options.rawOutput ?? this.#rawOutput;
    const decoded = decodeInferRequest(request, this, rawOutput === undefined ? {} : { rawOutput });
    let result;
    try {
      result = await this.#batcher.submit(decoded);
    } catch (error) {
      if (isTyped(error)) throw error;
      throw new Error(
        `model "${this.name}" version "${this.version}": onnxruntime failed to run the request: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const response = encodeInferResponse({
      modelName: this.name,
      modelVersion: this.version,
      id: request.id,
      outputs: decoded.outputs,
      tensors: result.outputs,
      rawOutput: decoded.rawOutput,
    });
    return { response, timing: result.timing };
  }

  metadata(): inference.ModelMetadataResponse {
    return {
      name: this.name,
      versions: [this.version],
      platform: this.platform,
      inputs: this.signature.inputs.map(tensorMetadata),
      outputs: this.signature.outputs.map(tensorMetadata),
    };
  }

  close(): Promise<void> {
    this.#closed ??= this.#batcher.close().finally(() => this.#executor.close());
    return this.#closed;
  }
}

/**
 * Loads one model version: reads the bytes, verifies their sha256 (before any session exists),
 * creates the executor's session(s), builds the signature, and warms up.
 *
 * @throws FailedPreconditionError when the hash does not match, onnxruntime cannot load the
 *   model, an input is not a tensor, no output can be served, or the warm-up fails.
 * @throws NotFoundError when `path` does not exist; InvalidArgumentError for malformed options.
 */
export async function loadModel(options: LoadModelOptions): Promise<LoadedModel> {
  const label = `model "${options.name}" version "${options.version}"`;
  const bytes = await readSource(options, label);
  const sha256 = sha256Hex(bytes);
  if (options.expectedSha256 !== undefined) {
    const expected = options.expectedSha256.toLowerCase();
    if (!SHA256_HEX.test(expected)) {
      throw new InvalidArgumentError(
        `${label}: expectedSha256 "${options.expectedSha256}" is not a hex sha256 (64 hex digits)`,
      );
    }
    if (expected !== sha256) {
      throw new FailedPreconditionError(
        `${label}: artifact sha256 is ${sha256} but ${expected} was expected; the artifact is corrupt or not this version, fetch it again`,
      );
    }
  }

  let executor: Executor;
  try {
    executor = await createExecutor(
      bytes,
      options.sessionOptions ?? {},
      options.executor ?? { kind: 'in-process' },
    );
  } catch (error) {
    if (isTyped(error)) throw error;
    throw new FailedPreconditionError(
      `${label} could not be loaded by onnxruntime: ${(error as Error).message}`,
      { cause: error },
    );
  }

  let model: OnnxModel | undefined;
  try {
    let declared: DeclaredValues | undefined;
    try {
      declared = readModelSignature(bytes);
    } catch {
      // onnxruntime parsed the model, so this cannot really fail; without it, non-tensor types
      // are described less precisely and every tensor's rank counts as declared.
    }
    const signature = buildModelSignature(options.name, executor.metadata, declared);
    model = new OnnxModel(options, sha256, signature, executor);
    try {
      await model.warmUp(options.warmup);
    } catch (error) {
      throw new FailedPreconditionError(
        `${label} failed its warm-up inference, so it cannot serve: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return model;
  } catch (error) {
    await (model ? model.close() : executor.close());
    throw error;
  }
}
