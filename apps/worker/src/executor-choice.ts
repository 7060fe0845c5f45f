import { inference } from '@slipway/contracts';
import {
  datatypeInfo,
  loadModel,
  type LoadedModel,
  type LoadModelOptions,
  type ModelSignature,
} from '@slipway/model-runtime';
import type { Logger } from '@slipway/service-kit';
import type { LoadSettings } from './load-settings.js';

/**
 * A run at least this long (at the model's largest batch) sends an `auto` model to worker
 * threads. Measured on 2 cores (README, "Executor choice"): the tiny MLP's 64-row run takes well
 * under this and is as fast or faster in-process; the heavy MLP's takes several ms, blocks the
 * event loop that long per batch in-process, and has 3x lower p99 latency in worker threads.
 */
export const AUTO_WORKER_THREADS_FROM_MICROS = 1_000;

const PROBE_RUNS = 3;

/** Where one model version is, and how: a path or bytes, and the sha256 to verify. */
export type VersionSource = { readonly name: string; readonly version: number } & (
  | { readonly path: string; readonly bytes?: undefined }
  | { readonly bytes: Uint8Array; readonly path?: undefined }
) & { readonly expectedSha256?: string | undefined };

/**
 * A request at the largest batch the model will run (`rows` along a dynamic first dimension,
 * other dynamic dimensions 1), zeros and empty strings; undefined when an input has no declared
 * rank, so no shape can be made up.
 */
export function probeRequest(
  name: string,
  signature: ModelSignature,
  rows: number,
): inference.ModelInferRequest | undefined {
  if (signature.inputs.some((input) => !input.rankKnown)) return undefined;
  const batchable = signature.inputs.every((input) => input.shape.length > 0 && input.shape[0] === -1);
  const request = inference.ModelInferRequest.fromPartial({ modelName: name, id: 'executor-probe' });
  for (const input of signature.inputs) {
    const dims = input.shape.map((d, i) => (d >= 0 ? d : i === 0 && batchable ? rows : 1));
    const count = dims.reduce((n, d) => n * d, 1);
    // BYTES raw data is a 4-byte length per element: zero bytes make empty strings.
    const info = datatypeInfo(input.datatype);
    const elementBytes = info?.arrayType ? info.byteSize : 4;
    request.inputs.push({
      name: input.name,
      datatype: input.datatype,
      shape: dims.map(BigInt),
      parameters: {},
      contents: undefined,
    });
    request.rawInputContents.push(new Uint8Array(count * elementBytes));
  }
  return request;
}

async function probeMicros(model: LoadedModel, rows: number): Promise<number | undefined> {
  const request = probeRequest(model.name, model.signature, rows);
  if (!request) return undefined;
  let best = Infinity;
  for (let i = 0; i < PROBE_RUNS; i++) {
    const { timing } = await model.inferWithTiming(request);
    best = Math.min(best, timing.inferenceMicros);
  }
  return best;
}

/**
 * Loads one version with its settings. With the `auto` executor it loads in-process, times a run
 * at the model's largest batch, and reloads in worker threads when that run takes at least
 * {@link AUTO_WORKER_THREADS_FROM_MICROS} (a probe that cannot run keeps it in-process).
 *
 * @throws what `loadModel` throws: FailedPreconditionError with the reason the model cannot serve.
 */
export async function loadVersion(
  source: VersionSource,
  settings: LoadSettings,
  logger: Logger,
): Promise<LoadedModel> {
  const base: LoadModelOptions = {
    ...(source.path !== undefined ? { path: source.path } : { bytes: source.bytes }),
    name: source.name,
    version: String(source.version),
    expectedSha256: source.expectedSha256,
    sessionOptions: settings.sessionOptions,
    batching: settings.batching,
  };
  const { executor } = settings;
  if (executor.kind !== 'auto') return loadModel({ ...base, executor });

  const model = await loadModel({ ...base, executor: { kind: 'in-process' } });
  const rows = settings.batching?.maxBatchSize ?? 1;
  const micros = await probeMicros(model, rows).catch(() => undefined);
  const log = { model: source.name, version: source.version, probeRows: rows, probeMicros: micros };
  if (micros === undefined || micros < AUTO_WORKER_THREADS_FROM_MICROS) {
    logger.info({ ...log, executor: 'in-process' }, 'executor chosen by probe');
    return model;
  }
  await model.close();
  logger.info({ ...log, executor: 'worker-threads' }, 'executor chosen by probe');
  return loadModel({
    ...base,
    executor: {
      kind: 'worker-threads',
      ...(executor.threads === undefined ? {} : { threads: executor.threads }),
    },
  });
}
