import { readFileSync } from 'node:fs';
import { context, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import type { inference } from '@slipway/contracts';
import type { InferOutcome } from '@slipway/model-runtime';
import { statusNameOf, type ServiceImplementation } from '@slipway/service-kit';
import { SlipwayAttributes, tracer } from '@slipway/telemetry';
import { applyFault, type Fault } from './faults.js';
import type { ModelTable } from './model-table.js';
import { createWorkerMetrics, type WorkerMetrics } from './worker-metrics.js';

type Definition = typeof inference.GRPCInferenceServiceService;

/** Name in ServerMetadata. */
export const SERVER_NAME = 'slipway-worker';

/**
 * Protocol extensions announced in ServerMetadata: the `binary_data_output` request parameter
 * (Triton's binary tensor data extension) chooses raw or typed outputs.
 */
export const SERVER_EXTENSIONS: readonly string[] = ['binary_tensor_data'];

/** Span attribute: time inside onnxruntime for the run that answered the request, in ms. */
export const INFERENCE_TIME_MS_ATTRIBUTE = 'slipway.inference.time_ms';
/** Span attribute: requests merged into the run that answered the request. */
export const BATCH_REQUESTS_ATTRIBUTE = 'slipway.batch.requests';

/** What the inference service serves from. */
export interface InferenceServiceOptions {
  readonly table: ModelTable;
  /** ServerReady: true once every version the worker must hold has finished loading. */
  readonly serverReady: () => boolean;
  readonly metrics?: WorkerMetrics;
  /** Set on spans as `slipway.worker.id`. */
  readonly workerId?: string;
  /** Test-only faults by `model@version` (SLIPWAY_WORKER_TEST_FAULTS). */
  readonly faults?: ReadonlyMap<string, Fault>;
}

function packageVersion(): string {
  // src/ and dist/ both sit one level below the package root.
  try {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return manifest.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function timingAttributes(outcome: InferOutcome): Attributes {
  const { timing } = outcome;
  return {
    [SlipwayAttributes.BATCH_SIZE]: timing.batchSize,
    [BATCH_REQUESTS_ATTRIBUTE]: timing.batchRequests,
    [SlipwayAttributes.QUEUE_TIME_MS]: timing.queueTimeMicros / 1000,
    [INFERENCE_TIME_MS_ATTRIBUTE]: timing.inferenceMicros / 1000,
  };
}

/**
 * `inference.GRPCInferenceService` (the Open Inference Protocol) over a model table. `model_name`
 * is the registry model name; `model_version` selects a version, or the highest ready one when
 * empty. Malformed requests are refused by the runtime's codec with INVALID_ARGUMENT before
 * onnxruntime sees them.
 */
export function createInferenceService(options: InferenceServiceOptions): ServiceImplementation<Definition> {
  const { table, serverReady } = options;
  const faults = options.faults?.size ? options.faults : undefined;
  const metrics = options.metrics ?? createWorkerMetrics();
  const version = packageVersion();
  const spans = tracer('@slipway/worker', version);

  const infer = async (request: inference.ModelInferRequest): Promise<inference.ModelInferResponse> => {
    // Attribute objects are built only for spans that record: most requests in an untraced
    // deployment carry non-recording spans, and the allocations showed in the profile.
    const active = trace.getActiveSpan();
    const serverSpan = active?.isRecording() ? active : undefined;
    serverSpan?.setAttributes({
      [SlipwayAttributes.MODEL_NAME]: request.modelName,
      ...(request.id ? { [SlipwayAttributes.REQUEST_ID]: request.id } : {}),
      ...(options.workerId ? { [SlipwayAttributes.WORKER_ID]: options.workerId } : {}),
    });
    let counted = false;
    try {
      return await table.use(request.modelName, request.modelVersion, async (model) => {
        counted = true;
        const done = metrics.started({ model: model.name, version: model.version });
        // The child span starts as the request enters the batch queue, so queue time is visible.
        const enqueuedAt = performance.now();
        try {
          const fault = faults?.get(`${model.name}@${model.version}`);
          if (fault) await applyFault(fault, `${model.name}@${model.version}`);
          const outcome = await model.inferWithTiming(request);
          if (serverSpan) {
            const labels = {
              [SlipwayAttributes.MODEL_NAME]: model.name,
              [SlipwayAttributes.MODEL_VERSION]: model.version,
            };
            const attributes = timingAttributes(outcome);
            serverSpan.setAttributes({ ...labels, ...attributes });
            const span = spans.startSpan(
              'worker.infer',
              { startTime: enqueuedAt, attributes: { ...labels, ...attributes } },
              context.active(),
            );
            span.addEvent('session.run', {}, enqueuedAt + outcome.timing.queueTimeMicros / 1000);
            span.end();
          }
          done({ code: 'OK', timing: outcome.timing });
          return outcome.response;
        } catch (error) {
          if (serverSpan) {
            const labels = {
              [SlipwayAttributes.MODEL_NAME]: model.name,
              [SlipwayAttributes.MODEL_VERSION]: model.version,
            };
            serverSpan.setAttributes(labels);
            const span = spans.startSpan(
              'worker.infer',
              { startTime: enqueuedAt, attributes: labels },
              context.active(),
            );
            if (error instanceof Error) span.recordException(error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
            span.end();
          }
          done({ code: statusNameOf(error) });
          throw error;
        }
      });
    } catch (error) {
      if (!counted) {
        metrics.started({ model: request.modelName, version: request.modelVersion })({
          code: statusNameOf(error),
        });
      }
      throw error;
    }
  };

  return {
    async serverLive() {
      return { live: true };
    },
    async serverReady() {
      return { ready: serverReady() };
    },
    async modelReady(request) {
      return { ready: table.isReady(request.name, request.version) };
    },
    async serverMetadata() {
      return { name: SERVER_NAME, version, extensions: [...SERVER_EXTENSIONS] };
    },
    async modelMetadata(request) {
      const model = table.resolve(request.name, request.version);
      return { ...model.metadata(), versions: table.readyVersions(request.name).map(String) };
    },
    modelInfer: infer,
  };
}
