import {
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from '@slipway/errors';
import type { InferTiming } from '@slipway/model-runtime';
import { meter } from '@slipway/telemetry';

/** The labels every inference metric carries. */
export interface InferLabels {
  readonly model: string;
  /** '' when the request named an unknown model or version. */
  readonly version: string;
}

/** Inference metrics of one worker (`meter('slipway-worker')`), exported on its Prometheus endpoint. */
export interface WorkerMetrics {
  /** Counts a request that is about to run; returns the function that records its end. */
  started(labels: InferLabels): (outcome: { code: string; timing?: InferTiming }) => void;
}

// Status names as the service kit reports them, so metric labels match what callers saw.
const CODES: ReadonlyArray<readonly [new (...args: never[]) => Error, string]> = [
  [InvalidArgumentError, 'INVALID_ARGUMENT'],
  [NotFoundError, 'NOT_FOUND'],
  [UnavailableError, 'UNAVAILABLE'],
  [FailedPreconditionError, 'FAILED_PRECONDITION'],
  [ResourceExhaustedError, 'RESOURCE_EXHAUSTED'],
  [DeadlineExceededError, 'DEADLINE_EXCEEDED'],
  [CancelledError, 'CANCELLED'],
  [AlreadyExistsError, 'ALREADY_EXISTS'],
  [PermissionDeniedError, 'PERMISSION_DENIED'],
  [UnauthenticatedError, 'UNAUTHENTICATED'],
];

/** The gRPC status name a handler failure becomes (anything untyped is INTERNAL). */
export function statusCodeName(error: unknown): string {
  for (const [ErrorType, name] of CODES) if (error instanceof ErrorType) return name;
  return 'INTERNAL';
}

// Batch sizes are rows, so powers of two match how they are configured.
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const MILLISECOND_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

/** Creates the worker's instruments. Cheap no-ops until the telemetry SDK is running. */
export function createWorkerMetrics(): WorkerMetrics {
  const m = meter('slipway-worker');
  const requests = m.createCounter('slipway.worker.requests', {
    description: 'ModelInfer requests by model, version and status code',
  });
  const errors = m.createCounter('slipway.worker.errors', {
    description: 'ModelInfer requests that failed, by model, version and status code',
  });
  const inFlight = m.createUpDownCounter('slipway.worker.in_flight', {
    description: 'ModelInfer requests being served',
  });
  const queueTime = m.createHistogram('slipway.worker.queue_time', {
    description: 'Time a request waited in the batch queue and for a free session',
    unit: 'ms',
    advice: { explicitBucketBoundaries: MILLISECOND_BUCKETS },
  });
  const inferenceTime = m.createHistogram('slipway.worker.inference_time', {
    description: 'Time inside onnxruntime for the run that answered a request',
    unit: 'ms',
    advice: { explicitBucketBoundaries: MILLISECOND_BUCKETS },
  });
  const batchSize = m.createHistogram('slipway.worker.batch_size', {
    description: 'Rows in the run that answered a request',
    advice: { explicitBucketBoundaries: BATCH_SIZE_BUCKETS },
  });
  return {
    started(labels) {
      const base = { model: labels.model, version: labels.version };
      inFlight.add(1, base);
      return ({ code, timing }) => {
        inFlight.add(-1, base);
        requests.add(1, { ...base, code });
        if (code !== 'OK') errors.add(1, { ...base, code });
        if (timing) {
          queueTime.record(timing.queueTimeMicros / 1000, base);
          inferenceTime.record(timing.inferenceMicros / 1000, base);
          batchSize.record(timing.batchSize, base);
        }
      };
    },
  };
}
