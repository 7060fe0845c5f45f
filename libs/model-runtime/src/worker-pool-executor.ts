import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { elapsedMicros } from './clock.js';
import { UnavailableError } from '@slipway/errors';
import type { ExecutionInputs, ExecutionResult, Executor, SessionConfig } from './executor.js';
import type { SessionMetadata } from './model-signature.js';
import { fromOrtTensor, toOrtSessionOptions } from './ort-tensors.js';
import { datatypeInfo } from './datatypes.js';
import type { HostTensor } from './tensor-codec.js';

/** Options of the worker-thread executor. */
export interface WorkerPoolOptions {
  /** Worker threads, each with its own session. Default: half the available cores, at least 1. */
  readonly threads?: number | undefined;
}

// Message shapes shared with session-worker.js.
interface WireTensor {
  readonly type: ort.Tensor.Type;
  readonly dims: number[];
  readonly data: unknown;
}
type WorkerMessage =
  | {
      type: 'ready';
      inputs: ort.InferenceSession.ValueMetadata[];
      outputs: ort.InferenceSession.ValueMetadata[];
    }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; outputs: Record<string, WireTensor>; inferenceMicros: number }
  | { type: 'error'; id: number; message: string };

interface Task {
  readonly id: number;
  readonly inputs: ExecutionInputs;
  readonly outputs: readonly string[];
  readonly queuedAt: number;
  readonly resolve: (result: ExecutionResult) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  task: (Task & { startedAt: number }) | undefined;
  detach: () => void;
}

const WORKER_URL = new URL('./session-worker.js', import.meta.url);
const EXIT_GRACE_MS = 5_000;

/**
 * Prepares feeds for postMessage. Buffers the runtime owns (decoded typed contents, batch
 * concatenations, copies of unaligned raw bytes) are transferred, not copied; views into caller
 * memory (raw request bytes, possibly inside a shared pool) are copied to an exact-size buffer
 * first, since cloning a view clones its whole backing buffer.
 */
function toWire(inputs: ExecutionInputs): { feeds: Record<string, WireTensor>; transfer: ArrayBuffer[] } {
  const feeds: Record<string, WireTensor> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, tensor] of inputs) {
    const info = datatypeInfo(tensor.datatype);
    if (!info) throw new Error(`datatype ${tensor.datatype} has no onnxruntime type`);
    let data = tensor.data;
    if (!Array.isArray(data)) {
      const whole =
        data.byteOffset === 0 &&
        data.byteLength === data.buffer.byteLength &&
        data.buffer instanceof ArrayBuffer;
      if (!(tensor.owned === true && whole) || transfer.includes(data.buffer as ArrayBuffer))
        data = data.slice();
      transfer.push(data.buffer as ArrayBuffer);
    }
    feeds[name] = { type: info.ortType, dims: [...tensor.dims], data };
  }
  return { feeds, transfer };
}

class WorkerPoolExecutor implements Executor {
  readonly kind = 'worker-threads' as const;
  readonly metadata: SessionMetadata;
  get concurrency(): number {
    return Math.max(1, this.#slots.length);
  }
  readonly #slots: Slot[] = [];
  readonly #queue: Task[] = [];
  readonly #modelBytes: Uint8Array;
  readonly #sessionOptions: ort.InferenceSession.SessionOptions;
  #nextId = 0;
  #closing: Promise<void> | undefined;
  #idle: (() => void) | undefined;

  private constructor(
    modelBytes: Uint8Array,
    sessionOptions: ort.InferenceSession.SessionOptions,
    metadata: SessionMetadata,
  ) {
    this.#modelBytes = modelBytes;
    this.#sessionOptions = sessionOptions;
    this.metadata = metadata;
  }

  /** Starts `threads` workers and waits until each has its session. */
  static async start(
    modelBytes: Uint8Array,
    config: SessionConfig,
    threads: number,
  ): Promise<WorkerPoolExecutor> {
    const sessionOptions = toOrtSessionOptions(config);
    const started = await Promise.allSettled(
      Array.from({ length: threads }, () => WorkerPoolExecutor.#spawn(modelBytes, sessionOptions)),
    );
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) {
      await Promise.all(workers.map(({ worker }) => worker.terminate()));
      throw failure.reason;
    }
    const pool = new WorkerPoolExecutor(
      modelBytes,
      sessionOptions,
      (workers[0] as { metadata: SessionMetadata }).metadata,
    );
    for (const { worker } of workers) pool.#adopt(worker);
    return pool;
  }

  static #spawn(
    modelBytes: Uint8Array,
    sessionOptions: ort.InferenceSession.SessionOptions,
  ): Promise<{ worker: Worker; metadata: SessionMetadata }> {
    const worker = new Worker(WORKER_URL, { workerData: { modelBytes, sessionOptions } });
    return new Promise((resolve, reject) => {
      // Remove only our own listeners: Worker keeps internal ones that keep its port delivering.
      const detach = (): void => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      };
      const fail = (error: Error): void => {
        detach();
        void worker.terminate();
        reject(error);
      };
      const onMessage = (message: WorkerMessage): void => {
        if (message.type === 'ready') {
          detach();
          resolve({ worker, metadata: { inputs: message.inputs, outputs: message.outputs } });
        } else {
          fail(new Error('message' in message ? message.message : `unexpected ${message.type} message`));
        }
      };
      const onError = (error: Error): void =>
        fail(new Error(`session thread failed to start: ${error.message}`, { cause: error }));
      const onExit = (code: number): void =>
        fail(new Error(`session thread exited with code ${code} before its session was ready`));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
  }

  #adopt(worker: Worker): void {
    const slot: Slot = { worker, task: undefined, detach: () => undefined };
    const onMessage = (message: WorkerMessage): void => this.#onMessage(slot, message);
    const onError = (error: Error): void => this.#onLost(slot, error);
    const onExit = (code: number): void => this.#onLost(slot, new Error(`exited with code ${code}`));
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    slot.detach = () => void worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    this.#slots.push(slot);
    this.#pump();
  }

  #onMessage(slot: Slot, message: WorkerMessage): void {
    const task = slot.task;
    if (!task || (message.type !== 'result' && message.type !== 'error') || message.id !== task.id) return;
    slot.task = undefined;
    if (message.type === 'error') {
      task.reject(new Error(message.message));
    } else {
      try {
        const outputs: Record<string, HostTensor> = {};
        for (const name of task.outputs)
          outputs[name] = fromOrtTensor(name, message.outputs[name] as WireTensor);
        task.resolve({
          outputs,
          queueMicros: elapsedMicros(task.queuedAt, task.startedAt),
          inferenceMicros: message.inferenceMicros,
        });
      } catch (error) {
        task.reject(error as Error);
      }
    }
    this.#pump();
  }

  // A thread that dies (native crash, out of memory) fails only the run it held; a fresh thread
  // with a fresh session takes its place so the pool keeps its size.
  #onLost(slot: Slot, error: Error): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    this.#slots.splice(index, 1);
    slot.detach();
    void slot.worker.terminate();
    slot.task?.reject(
      new UnavailableError(
        `the session thread running this request stopped (${error.message}); retry the request`,
      ),
    );
    slot.task = undefined;
    if (this.#closing) {
      this.#pump();
      return;
    }
    WorkerPoolExecutor.#spawn(this.#modelBytes, this.#sessionOptions).then(
      ({ worker }) => (this.#closing ? void worker.terminate() : this.#adopt(worker)),
      () => this.#pump(),
    );
  }

  #pump(): void {
    for (const slot of this.#slots) {
      if (slot.task) continue;
      const task = this.#queue.shift();
      if (!task) break;
      try {
        const { feeds, transfer } = toWire(task.inputs);
        slot.task = { ...task, startedAt: performance.now() };
        slot.worker.postMessage({ type: 'run', id: task.id, feeds, fetches: task.outputs }, transfer);
      } catch (error) {
        slot.task = undefined;
        task.reject(error as Error);
      }
    }
    if (this.#slots.length === 0) {
      for (const task of this.#queue.splice(0))
        task.reject(new UnavailableError('no session thread is running for this model; reload it'));
    }
    if (this.#idle && this.#queue.length === 0 && this.#slots.every((s) => !s.task)) this.#idle();
  }

  run(inputs: ExecutionInputs, outputs: readonly string[]): Promise<ExecutionResult> {
    if (this.#closing)
      return Promise.reject(new UnavailableError('the model session is closed; load the model again'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, inputs, outputs, queuedAt: performance.now(), resolve, reject });
      this.#pump();
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await new Promise<void>((resolve) => {
        this.#idle = resolve;
        this.#pump();
      });
      await Promise.all(
        this.#slots.splice(0).map(({ worker, detach }) => {
          detach();
          return new Promise<void>((resolve) => {
            const timer = setTimeout(() => void worker.terminate(), EXIT_GRACE_MS);
            worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            worker.postMessage({ type: 'close' });
          });
        }),
      );
    })();
    return this.#closing;
  }
}

/**
 * Creates an executor that runs the model in a pool of worker threads, each owning its own
 * onnxruntime session, so the main thread's event loop (gRPC I/O) never waits on a computation.
 * Runs are queued and handed to the first free thread. Consider `intraOpNumThreads` ≈ cores /
 * threads so the sessions do not oversubscribe the CPU.
 */
export async function createWorkerPoolExecutor(
  modelBytes: Uint8Array,
  config: SessionConfig = {},
  options: WorkerPoolOptions = {},
): Promise<Executor> {
  const threads = options.threads ?? Math.max(1, Math.floor(availableParallelism() / 2));
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`threads must be a positive integer, got ${threads}`);
  // Each worker gets a structured clone; cloning a view would clone its whole backing buffer.
  const exact =
    modelBytes.byteOffset === 0 && modelBytes.byteLength === modelBytes.buffer.byteLength
      ? modelBytes
      : modelBytes.slice();
  return WorkerPoolExecutor.start(exact, config, threads);
}
