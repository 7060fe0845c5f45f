import * as ort from 'onnxruntime-node';
import { elapsedMicros } from './clock.js';
import { UnavailableError } from '@slipway/errors';
import type { ExecutionInputs, ExecutionResult, Executor, SessionConfig } from './executor.js';
import type { SessionMetadata } from './model-signature.js';
import { fromOrtTensor, plainMetadata, toOrtSessionOptions, toOrtTensor } from './ort-tensors.js';
import type { HostTensor } from './tensor-codec.js';

class InProcessExecutor implements Executor {
  readonly kind = 'in-process' as const;
  readonly concurrency = 1;
  readonly metadata: SessionMetadata;
  #session: ort.InferenceSession;
  // Runs are chained: onnxruntime-node computes synchronously anyway, and a chain makes the
  // queue/inference split of each run measurable.
  #tail: Promise<unknown> = Promise.resolve();
  #closed: Promise<void> | undefined;

  constructor(session: ort.InferenceSession) {
    this.#session = session;
    this.metadata = plainMetadata(session);
  }

  run(inputs: ExecutionInputs, outputs: readonly string[]): Promise<ExecutionResult> {
    if (this.#closed)
      return Promise.reject(new UnavailableError('the model session is closed; load the model again'));
    const queued = performance.now();
    const result = this.#tail.then(async () => {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, tensor] of inputs) feeds[name] = toOrtTensor(tensor);
      const started = performance.now();
      const fetched = await this.#session.run(feeds, outputs);
      const ended = performance.now();
      const out: Record<string, HostTensor> = {};
      for (const name of outputs) out[name] = fromOrtTensor(name, fetched[name] as ort.Tensor);
      return {
        outputs: out,
        queueMicros: elapsedMicros(queued, started),
        inferenceMicros: elapsedMicros(started, ended),
      };
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  close(): Promise<void> {
    this.#closed ??= this.#tail.then(() => this.#session.release());
    return this.#closed;
  }
}

/** Creates an executor that runs one session on the calling thread. */
export async function createInProcessExecutor(
  modelBytes: Uint8Array,
  config: SessionConfig = {},
): Promise<Executor> {
  const session = await ort.InferenceSession.create(modelBytes, toOrtSessionOptions(config));
  return new InProcessExecutor(session);
}
