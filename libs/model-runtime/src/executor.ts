import { createInProcessExecutor } from './in-process-executor.js';
import { createWorkerPoolExecutor } from './worker-pool-executor.js';
import type { SessionMetadata } from './model-signature.js';
import type { HostTensor } from './tensor-codec.js';

/** onnxruntime session settings a deployment may tune. Unset fields keep onnxruntime's defaults. */
export interface SessionConfig {
  /** Threads used inside one operator. With the worker-thread executor this applies per thread. */
  readonly intraOpNumThreads?: number;
  /** Threads used across operators when executionMode is 'parallel'. */
  readonly interOpNumThreads?: number;
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  readonly executionMode?: 'sequential' | 'parallel';
}

/**
 * Where sessions run.
 * - `in-process`: one session on the calling (main) thread. onnxruntime-node computes
 *   synchronously inside `session.run`, so gRPC I/O waits while a model runs.
 * - `worker-threads`: `threads` worker threads, each owning its own session of the same model;
 *   the main thread only decodes, batches and encodes.
 */
export type ExecutorOptions =
  { readonly kind: 'in-process' } | { readonly kind: 'worker-threads'; readonly threads?: number };

/** The kinds of executor, as named in options and reports. */
export type ExecutorKind = ExecutorOptions['kind'];

/** Outcome of one session run. */
export interface ExecutionResult {
  readonly outputs: Readonly<Record<string, HostTensor>>;
  /** Time the run waited for a free session. */
  readonly queueMicros: number;
  /** Time inside session.run. */
  readonly inferenceMicros: number;
}

/** Input tensors for one run; `owned: false` marks views into caller memory that must not be detached. */
export type ExecutionInputs = ReadonlyMap<string, HostTensor & { readonly owned?: boolean }>;

/** Runs a model's sessions. One interface, two placements (see ExecutorOptions). */
export interface Executor {
  readonly kind: ExecutorKind;
  /** Runs that can compute at the same time (1 in-process, the thread count for a pool). */
  readonly concurrency: number;
  /** Session input/output metadata as onnxruntime reports it. */
  readonly metadata: SessionMetadata;
  /** Runs the model once. Fetch only tensor outputs: fetching a seq(map) fails the whole run. */
  run(inputs: ExecutionInputs, outputs: readonly string[]): Promise<ExecutionResult>;
  /** Waits for runs in flight, then releases the sessions. Idempotent. */
  close(): Promise<void>;
}

/** Creates the executor chosen by `options` for a model's bytes. */
export async function createExecutor(
  modelBytes: Uint8Array,
  config: SessionConfig,
  options: ExecutorOptions,
): Promise<Executor> {
  if (options.kind === 'in-process') return createInProcessExecutor(modelBytes, config);
  return createWorkerPoolExecutor(modelBytes, config, { threads: options.threads });
}
