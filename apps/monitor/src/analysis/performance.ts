import type { monitor } from '@slipway/contracts';
import { FailedPreconditionError, InvalidArgumentError } from '@slipway/errors';
import { classificationMetrics } from '@slipway/monitoring';
import type { ParentCall } from '@slipway/service-kit';
import type { RegistryLookup } from '../services/registry-lookup.js';
import type { LabelledPrediction, MonitorStore } from '../store/monitor-store.js';
import { assertKnownDeployment, decisionThreshold } from './deployments.js';
import { formatSeconds, requireName, windowEndingAt } from './window.js';

/** GetPerformance's window when the request names none: one day. */
export const DEFAULT_PERFORMANCE_WINDOW_SECONDS = 86_400;
/** Buckets one answer may hold. */
export const MAX_PERFORMANCE_BUCKETS = 1_000;

/** Options of {@link getPerformance}. */
export interface PerformanceContext {
  readonly store: MonitorStore;
  readonly lookup: RegistryLookup | undefined;
  readonly nowMs: number;
  readonly parent?: ParentCall;
}

/** Metrics of the labelled predictions of one bucket (or of the whole window). */
export function performanceWindow(
  startMs: number,
  endMs: number,
  predictions: number,
  labelled: readonly LabelledPrediction[],
  threshold: number,
): monitor.PerformanceWindow {
  const base = {
    start: new Date(startMs),
    end: new Date(endMs),
    predictions: BigInt(predictions),
    labelled: BigInt(labelled.length),
    labelCoverage: predictions === 0 ? 0 : labelled.length / predictions,
    threshold,
  };
  if (labelled.length === 0) {
    return {
      ...base,
      auc: NaN,
      logLoss: NaN,
      accuracy: NaN,
      precision: NaN,
      recall: NaN,
      calibrationError: NaN,
    };
  }
  const report = classificationMetrics(
    labelled.map((p) => p.score),
    labelled.map((p) => p.label),
    { threshold },
  );
  return {
    ...base,
    auc: report.auc ?? NaN,
    logLoss: report.logLoss,
    accuracy: report.accuracy,
    precision: report.precision ?? NaN,
    recall: report.recall ?? NaN,
    calibrationError: report.calibration.expectedCalibrationError,
  };
}

// Binary classification metrics need probabilities and 0/1 labels; anything else is a model or
// a label feed this RPC does not fit, which the caller must hear about rather than get numbers.
function checkPairs(pairs: readonly LabelledPrediction[], deployment: string): void {
  for (const p of pairs) {
    if (p.label !== 0 && p.label !== 1) {
      throw new FailedPreconditionError(
        `GetPerformance computes binary classification metrics, but request "${p.requestId}" of deployment ` +
          `"${deployment}" has label ${p.label}; labels must be 0 or 1`,
      );
    }
    if (!(p.score >= 0 && p.score <= 1)) {
      throw new FailedPreconditionError(
        `GetPerformance needs probabilities in [0, 1] as the model's first output, but request ` +
          `"${p.requestId}" of deployment "${deployment}" scored ${p.score}`,
      );
    }
  }
}

/**
 * Classification performance of a deployment's predictions joined with their delayed labels
 * (by request id; the newest label wins), per bucket of prediction time and over the window,
 * at the deployment's decision threshold (0.5 when it sets none, the registry is not configured
 * or no longer has the deployment). Buckets are aligned to multiples of `bucket_seconds` since
 * the epoch (whole hours for 3600), clipped to the window.
 *
 * @throws InvalidArgumentError without a deployment or for too many buckets.
 * @throws NotFoundError when the monitor never saw the deployment.
 * @throws FailedPreconditionError for labels other than 0/1 or scores outside [0, 1].
 */
export async function getPerformance(
  ctx: PerformanceContext,
  request: monitor.GetPerformanceRequest,
): Promise<monitor.GetPerformanceResponse> {
  const deployment = requireName(request.deployment, 'deployment', 'GetPerformance');
  const window = windowEndingAt(ctx.nowMs, request.windowSeconds, DEFAULT_PERFORMANCE_WINDOW_SECONDS);
  const bucketMs = (request.bucketSeconds === 0 ? window.seconds : request.bucketSeconds) * 1000;
  const firstBucket = Math.floor(window.fromMs / bucketMs) * bucketMs;
  const buckets = Math.ceil((window.toMs - firstBucket) / bucketMs);
  if (request.bucketSeconds !== 0 && buckets > MAX_PERFORMANCE_BUCKETS) {
    throw new InvalidArgumentError(
      `GetPerformance: a ${formatSeconds(window.seconds)} window in buckets of ` +
        `${formatSeconds(request.bucketSeconds)} makes ${buckets} buckets, more than ${MAX_PERFORMANCE_BUCKETS}; ` +
        `use buckets of at least ${Math.ceil(window.seconds / MAX_PERFORMANCE_BUCKETS)}s`,
    );
  }
  await assertKnownDeployment(ctx.store, deployment);
  const threshold = decisionThreshold(await ctx.lookup?.deployment(deployment, ctx.parent));
  const query = {
    deployment,
    ...(request.variant === '' ? {} : { variant: request.variant }),
    fromMs: window.fromMs,
    toMs: window.toMs,
  };
  const [counts, labelled] = await Promise.all([
    ctx.store.predictionCounts({ ...query, bucketMs }),
    ctx.store.labelledPredictions(query),
  ]);
  checkPairs(labelled, deployment);
  let predictions = 0;
  for (const n of counts.values()) predictions += n;
  const total = performanceWindow(window.fromMs, window.toMs, predictions, labelled, threshold);
  if (request.bucketSeconds === 0) return { deployment, total, windows: [total] };

  const byBucket = new Map<number, LabelledPrediction[]>();
  for (const p of labelled) {
    const start = p.timeMs - (p.timeMs % bucketMs);
    let list = byBucket.get(start);
    if (!list) byBucket.set(start, (list = []));
    list.push(p);
  }
  const windows: monitor.PerformanceWindow[] = [];
  for (let start = firstBucket; start < window.toMs; start += bucketMs) {
    windows.push(
      performanceWindow(
        Math.max(start, window.fromMs),
        Math.min(start + bucketMs, window.toMs),
        counts.get(start) ?? 0,
        byBucket.get(start) ?? [],
        threshold,
      ),
    );
  }
  return { deployment, total, windows };
}
