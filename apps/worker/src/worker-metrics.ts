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

// Batch sizes are rows, so powers of two match how they are configured.
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const MILLISECOND_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

/** One (model, version) series: its attribute objects and plain counters read at scrape time. */
interface Series {
  readonly base: Readonly<Record<string, string>>;
  inFlight: number;
  /** Requests by status code name, cumulative. */
  readonly byCode: Map<string, { readonly attributes: Readonly<Record<string, string>>; count: number }>;
}

// Unknown model names from callers must not grow the series without limit.
const MAX_SERIES = 10_000;

/**
 * Creates the worker's instruments. Cheap no-ops until the telemetry SDK is running.
 *
 * Counters and the in-flight gauge are plain numbers per series, reported by observable
 * instruments when Prometheus scrapes: recording six synchronous instruments per request (each
 * hashing its attributes) was the worker's largest telemetry cost on the hot path.
 */
export function createWorkerMetrics(): WorkerMetrics {
  const m = meter('slipway-worker');
  const series = new Map<string, Series>();
  const overflow: Series = {
    base: Object.freeze({ model: '(other)', version: '' }),
    inFlight: 0,
    byCode: new Map(),
  };
  const seriesOf = (labels: InferLabels): Series => {
    const key = `${labels.model}\u0000${labels.version}`;
    let found = series.get(key);
    if (!found) {
      if (series.size >= MAX_SERIES) return overflow;
      found = {
        base: Object.freeze({ model: labels.model, version: labels.version }),
        inFlight: 0,
        byCode: new Map(),
      };
      series.set(key, found);
    }
    return found;
  };
  const all = (): Series[] => [...series.values(), overflow];

  m.createObservableCounter('slipway.worker.requests', {
    description: 'ModelInfer requests by model, version and status code',
  }).addCallback((result) => {
    for (const s of all())
      for (const { attributes, count } of s.byCode.values()) result.observe(count, attributes);
  });
  m.createObservableCounter('slipway.worker.errors', {
    description: 'ModelInfer requests that failed, by model, version and status code',
  }).addCallback((result) => {
    for (const s of all())
      for (const [code, { attributes, count }] of s.byCode)
        if (code !== 'OK') result.observe(count, attributes);
  });
  m.createObservableUpDownCounter('slipway.worker.in_flight', {
    description: 'ModelInfer requests being served',
  }).addCallback((result) => {
    for (const s of all()) result.observe(s.inFlight, s.base);
  });
  const queueTime = m.createHistogram('slipway.worker.queue_time', {
    description: 'Time a request waited in the batch queue and for a free session',
    unit: 'ms',
    advice: { explicitBucketBoundaries: MILLISECOND_BUCKETS },
  });
  const inferenceTime = m.createHistogram('slipway.worker.inference_time', {
    description: 'Time inside onnxruntime per run (one run may answer a batch of requests)',
    unit: 'ms',
    advice: { explicitBucketBoundaries: MILLISECOND_BUCKETS },
  });
  const batchSize = m.createHistogram('slipway.worker.batch_size', {
    description: 'Rows per onnxruntime run',
    advice: { explicitBucketBoundaries: BATCH_SIZE_BUCKETS },
  });
  return {
    started(labels) {
      const s = seriesOf(labels);
      s.inFlight++;
      return ({ code, timing }) => {
        s.inFlight--;
        let counter = s.byCode.get(code);
        if (!counter) {
          counter = { attributes: Object.freeze({ ...s.base, code }), count: 0 };
          s.byCode.set(code, counter);
        }
        counter.count++;
        if (timing) {
          queueTime.record(timing.queueTimeMicros / 1000, s.base);
          // Per run, not per request: a run of 64 requests is one batch of 64 rows.
          if (timing.firstOfRun) {
            inferenceTime.record(timing.inferenceMicros / 1000, s.base);
            batchSize.record(timing.batchSize, s.base);
          }
        }
      };
    },
  };
}
