/**
 * The canary analysis decision: compare a canary window with the stable variant's window over
 * the same time and say whether to advance the rollout, hold (not enough traffic to judge), or
 * abort. Pure: the monitor gathers the numbers, the release driver acts on the decision.
 */
import { InvalidArgumentError } from '@slipway/errors';
import { twoProportionZTest } from './ab-test.js';
import { histogramCounts, populationStabilityIndex } from './drift.js';

/** What one variant did in the analysis window. */
export interface CanaryWindowStats {
  readonly requests: number;
  /** Requests that failed (any non-OK status). */
  readonly errors: number;
  readonly p99LatencyMs?: number;
  /** Prediction scores, to compare the two variants' distributions by PSI. */
  readonly predictions?: ArrayLike<number>;
  /**
   * PSI of this window's predictions against the stable window's, when computed elsewhere (only
   * read on the canary; it takes precedence over `predictions`).
   */
  readonly predictionPsi?: number;
  /** A label-based metric where higher is better (AUC, accuracy), when labels have arrived. */
  readonly labelMetric?: number;
}

/** Thresholds of {@link analyzeCanary}; the README explains the defaults. */
export interface CanaryThresholds {
  /** Abort when the canary's error rate exceeds it. Unset: compare with stable instead. */
  readonly maxErrorRate?: number;
  /**
   * Without `maxErrorRate`: abort when the canary's error rate exceeds stable's by more than this
   * (absolute, default 0.05 = 5 points) and a one-sided two-proportion z-test at `alpha` says the
   * difference is not chance.
   */
  readonly maxErrorRateIncrease?: number;
  /** Significance level of that test. Default 0.05. */
  readonly alpha?: number;
  /** Abort when the canary's p99 latency exceeds it (ms). Unset: no absolute limit. */
  readonly maxP99Ms?: number;
  /** Abort when the canary's p99 exceeds this multiple of stable's. Default 5. */
  readonly p99Ratio?: number;
  /** Abort when the PSI of the canary's predictions against stable's exceeds it. Default 0.2. */
  readonly maxPredictionPsi?: number;
  /** Hold while either side has fewer requests. Default 50. */
  readonly minRequests?: number;
  /** Abort when the canary's label metric is lower than stable's by more than this. Default 0.05. */
  readonly maxLabelMetricDrop?: number;
}

/** Defaults of {@link CanaryThresholds}. */
export const CANARY_DEFAULTS: Readonly<Required<Omit<CanaryThresholds, 'maxErrorRate' | 'maxP99Ms'>>> = {
  maxErrorRateIncrease: 0.05,
  alpha: 0.05,
  p99Ratio: 5,
  maxPredictionPsi: 0.2,
  minRequests: 50,
  maxLabelMetricDrop: 0.05,
};

/** The result of {@link analyzeCanary}. */
export interface CanaryDecision {
  readonly decision: 'advance' | 'hold' | 'abort';
  /** Why, one line per check that decided (for advance: what was checked). */
  readonly reasons: readonly string[];
  /** The numbers behind the decision (rates as shares, latencies in ms). */
  readonly numbers: Readonly<Record<string, number>>;
}

/**
 * PSI of one sample against another, on ten bins at the distinct deciles of `expected` (the
 * reference-profile binning).
 *
 * @throws InvalidArgumentError when either sample has no non-NaN values.
 */
export function psiBetweenSamples(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  const sorted = Float64Array.from(expected)
    .filter((x) => x === x)
    .sort();
  if (sorted.length === 0) throw new InvalidArgumentError('PSI needs values in the expected sample');
  const edges: number[] = [];
  for (let k = 1; k < 10; k++) {
    const h = (sorted.length - 1) * (k / 10);
    const lo = Math.floor(h);
    const value =
      lo + 1 < sorted.length ? sorted[lo]! + (h - lo) * (sorted[lo + 1]! - sorted[lo]!) : sorted[lo]!;
    if (edges.length === 0 || value > edges.at(-1)!) edges.push(value);
  }
  return populationStabilityIndex(histogramCounts(edges, sorted), histogramCounts(edges, actual));
}

function checkWindow(name: string, w: CanaryWindowStats): void {
  if (!Number.isSafeInteger(w.requests) || w.requests < 0) {
    throw new InvalidArgumentError(`${name}.requests must be an integer ≥ 0, got ${w.requests}`);
  }
  if (!Number.isSafeInteger(w.errors) || w.errors < 0 || w.errors > w.requests) {
    throw new InvalidArgumentError(`${name}.errors must be an integer in [0, requests], got ${w.errors}`);
  }
  for (const key of ['p99LatencyMs', 'predictionPsi', 'labelMetric'] as const) {
    const v = w[key];
    if (v !== undefined && !Number.isFinite(v))
      throw new InvalidArgumentError(`${name}.${key} must be finite, got ${v}`);
  }
}

function resolveThresholds(
  thresholds: CanaryThresholds,
): CanaryThresholds & Required<Omit<CanaryThresholds, 'maxErrorRate' | 'maxP99Ms'>> {
  const t = {
    ...thresholds,
    maxErrorRateIncrease: thresholds.maxErrorRateIncrease ?? CANARY_DEFAULTS.maxErrorRateIncrease,
    alpha: thresholds.alpha ?? CANARY_DEFAULTS.alpha,
    p99Ratio: thresholds.p99Ratio ?? CANARY_DEFAULTS.p99Ratio,
    maxPredictionPsi: thresholds.maxPredictionPsi ?? CANARY_DEFAULTS.maxPredictionPsi,
    minRequests: thresholds.minRequests ?? CANARY_DEFAULTS.minRequests,
    maxLabelMetricDrop: thresholds.maxLabelMetricDrop ?? CANARY_DEFAULTS.maxLabelMetricDrop,
  };
  const problems: string[] = [];
  for (const key of ['maxErrorRate', 'maxErrorRateIncrease', 'alpha'] as const) {
    const v = t[key];
    if (v !== undefined && !(v >= 0 && v <= 1)) problems.push(`${key} must lie in [0, 1], got ${v}`);
  }
  for (const key of ['maxP99Ms', 'p99Ratio', 'maxPredictionPsi', 'maxLabelMetricDrop'] as const) {
    const v = t[key];
    if (v !== undefined && !(v >= 0)) problems.push(`${key} must be ≥ 0, got ${v}`);
  }
  if (!Number.isSafeInteger(t.minRequests) || t.minRequests < 1) {
    problems.push(`minRequests must be an integer ≥ 1, got ${t.minRequests}`);
  }
  if (problems.length > 0)
    throw new InvalidArgumentError(`invalid canary thresholds: ${problems.join('; ')}`);
  return t;
}

const percent = (x: number): string => `${(x * 100).toFixed(2)}%`;

/**
 * Decides a canary step:
 * - **abort** when the canary's error rate exceeds `maxErrorRate` (or, with no absolute limit,
 *   is clearly worse than stable's), its p99 exceeds `maxP99Ms` or `p99Ratio` × stable's, the
 *   PSI of its predictions against stable's exceeds `maxPredictionPsi`, or its label metric
 *   dropped by more than `maxLabelMetricDrop`. Latency, PSI and error-rate comparisons are read
 *   only once both sides have `minRequests`; the absolute error limit aborts earlier when the
 *   errors alone already exceed `maxErrorRate × minRequests` (the budget is spent whatever the
 *   remaining requests do).
 * - **hold** when no check aborts and either side has fewer than `minRequests` requests;
 * - **advance** otherwise.
 *
 * @throws InvalidArgumentError for counts that are not integers with errors ≤ requests,
 *   non-finite numbers, or thresholds out of range.
 */
export function analyzeCanary(
  stable: CanaryWindowStats,
  canary: CanaryWindowStats,
  thresholds: CanaryThresholds = {},
): CanaryDecision {
  checkWindow('stable', stable);
  checkWindow('canary', canary);
  const t = resolveThresholds(thresholds);
  const numbers: Record<string, number> = {
    stableRequests: stable.requests,
    canaryRequests: canary.requests,
  };
  const aborts: string[] = [];
  const passed: string[] = [];
  const enough = stable.requests >= t.minRequests && canary.requests >= t.minRequests;
  const stableRate = stable.requests === 0 ? undefined : stable.errors / stable.requests;
  const canaryRate = canary.requests === 0 ? undefined : canary.errors / canary.requests;
  if (stableRate !== undefined) numbers.stableErrorRate = stableRate;
  if (canaryRate !== undefined) numbers.canaryErrorRate = canaryRate;

  if (t.maxErrorRate !== undefined) {
    numbers.maxErrorRate = t.maxErrorRate;
    if (canary.requests >= t.minRequests && canaryRate! > t.maxErrorRate) {
      aborts.push(
        `canary error rate ${percent(canaryRate!)} exceeds max_error_rate ${percent(t.maxErrorRate)}`,
      );
    } else if (canary.requests < t.minRequests && canary.errors > t.maxErrorRate * t.minRequests) {
      aborts.push(
        `canary has ${canary.errors} errors in ${canary.requests} requests: over max_error_rate ${percent(t.maxErrorRate)} of min_requests ${t.minRequests} whatever the rest do`,
      );
    } else if (canaryRate !== undefined) {
      passed.push(`error rate ${percent(canaryRate)} ≤ ${percent(t.maxErrorRate)}`);
    }
  } else if (enough) {
    const test = twoProportionZTest(
      { successes: stable.errors, trials: stable.requests },
      { successes: canary.errors, trials: canary.requests },
    );
    // One-sided: only a higher canary error rate matters.
    const pValue = test.z > 0 ? test.pValue / 2 : 1 - test.pValue / 2;
    numbers.errorRateIncrease = test.difference;
    numbers.errorRatePValue = pValue;
    if (test.difference > t.maxErrorRateIncrease && pValue < t.alpha) {
      aborts.push(
        `canary error rate ${percent(canaryRate!)} exceeds stable's ${percent(stableRate!)} by more than ${percent(t.maxErrorRateIncrease)} (one-sided p = ${pValue.toPrecision(2)})`,
      );
    } else {
      passed.push(`error rate ${percent(canaryRate!)} vs stable ${percent(stableRate!)}`);
    }
  }

  if (enough && canary.p99LatencyMs !== undefined) {
    const p99 = canary.p99LatencyMs;
    numbers.canaryP99Ms = p99;
    if (t.maxP99Ms !== undefined && p99 > t.maxP99Ms) {
      aborts.push(`canary p99 ${p99.toFixed(1)} ms exceeds max_p99_ms ${t.maxP99Ms}`);
    }
    if (stable.p99LatencyMs !== undefined && stable.p99LatencyMs > 0) {
      const ratio = p99 / stable.p99LatencyMs;
      numbers.stableP99Ms = stable.p99LatencyMs;
      numbers.p99Ratio = ratio;
      if (ratio > t.p99Ratio) {
        aborts.push(
          `canary p99 ${p99.toFixed(1)} ms is ${ratio.toFixed(1)}× stable's ${stable.p99LatencyMs.toFixed(1)} ms (limit ${t.p99Ratio}×)`,
        );
      }
    }
    if (!aborts.some((r) => r.startsWith('canary p99'))) passed.push(`p99 ${p99.toFixed(1)} ms`);
  }

  if (enough) {
    let psi = canary.predictionPsi;
    if (psi === undefined && stable.predictions !== undefined && canary.predictions !== undefined) {
      const count = (xs: ArrayLike<number>): number =>
        Array.prototype.filter.call(xs, (x: number) => x === x).length;
      if (count(stable.predictions) >= t.minRequests && count(canary.predictions) >= t.minRequests) {
        psi = psiBetweenSamples(stable.predictions, canary.predictions);
      }
    }
    if (psi !== undefined) {
      numbers.predictionPsi = psi;
      if (psi > t.maxPredictionPsi) {
        aborts.push(
          `prediction PSI ${psi.toFixed(3)} against stable exceeds max_prediction_psi ${t.maxPredictionPsi}`,
        );
      } else {
        passed.push(`prediction PSI ${psi.toFixed(3)}`);
      }
    }
  }

  if (stable.labelMetric !== undefined && canary.labelMetric !== undefined) {
    const drop = stable.labelMetric - canary.labelMetric;
    numbers.stableLabelMetric = stable.labelMetric;
    numbers.canaryLabelMetric = canary.labelMetric;
    if (drop > t.maxLabelMetricDrop) {
      aborts.push(
        `canary label metric ${canary.labelMetric.toFixed(4)} is ${drop.toFixed(4)} below stable's ${stable.labelMetric.toFixed(4)} (limit ${t.maxLabelMetricDrop})`,
      );
    } else {
      passed.push(`label metric ${canary.labelMetric.toFixed(4)} vs stable ${stable.labelMetric.toFixed(4)}`);
    }
  }

  if (aborts.length > 0) return { decision: 'abort', reasons: aborts, numbers };
  if (!enough) {
    const holds = [
      ...(canary.requests < t.minRequests
        ? [`canary has ${canary.requests} requests, fewer than min_requests ${t.minRequests}`]
        : []),
      ...(stable.requests < t.minRequests
        ? [`stable has ${stable.requests} requests, fewer than min_requests ${t.minRequests}`]
        : []),
    ];
    return { decision: 'hold', reasons: holds, numbers };
  }
  return { decision: 'advance', reasons: passed.length > 0 ? passed : ['no check failed'], numbers };
}
