/**
 * A/B statistics for experiments between two variants: the two-proportion z-test for conversion
 * rates, Welch's t-test for means, and the sample size an experiment needs. Differences are
 * always treatment − control.
 */
import { InvalidArgumentError } from '@slipway/errors';
import {
  normalQuantile,
  normalSurvival,
  studentTQuantile,
  studentTTwoSidedPValue,
} from './special-functions.js';

/** Conversions out of trials in one arm. */
export interface ProportionArm {
  readonly successes: number;
  readonly trials: number;
}

/** Options of the tests: the confidence level of the interval (default 0.95). */
export interface ConfidenceOptions {
  readonly confidence?: number;
}

/** The result of {@link twoProportionZTest}. */
export interface TwoProportionResult {
  readonly controlRate: number;
  readonly treatmentRate: number;
  /** treatmentRate − controlRate. */
  readonly difference: number;
  /** (treatment − control) / control; null when the control rate is 0. */
  readonly relativeLift: number | null;
  /** Unpooled standard error of the difference (used for the interval). */
  readonly standardError: number;
  /** Confidence interval of the difference (unpooled standard error). */
  readonly confidenceInterval: readonly [number, number];
  readonly confidence: number;
  /** z under H0 (pooled standard error). */
  readonly z: number;
  /** Two-sided p-value of z. */
  readonly pValue: number;
}

function confidenceOf(options: ConfidenceOptions): number {
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) {
    throw new InvalidArgumentError(`confidence must lie in (0, 1), got ${confidence}; 0.95 is 95 %`);
  }
  return confidence;
}

function checkArm(name: string, arm: ProportionArm): void {
  if (!Number.isSafeInteger(arm.trials) || arm.trials < 1) {
    throw new InvalidArgumentError(`${name}: trials must be a positive integer, got ${arm.trials}`);
  }
  if (!Number.isSafeInteger(arm.successes) || arm.successes < 0 || arm.successes > arm.trials) {
    throw new InvalidArgumentError(
      `${name}: successes must be an integer in [0, trials], got ${arm.successes}`,
    );
  }
}

/**
 * Two-proportion z-test. The p-value uses the pooled standard error (the null hypothesis says
 * both rates are equal); the interval uses the unpooled one (Wald), which does not assume that.
 * With both rates 0 or both 1 the test has no variance: z = 0, p = 1.
 *
 * @throws InvalidArgumentError for counts that are not integers with 0 ≤ successes ≤ trials,
 *   trials ≥ 1, or a confidence outside (0, 1).
 */
export function twoProportionZTest(
  control: ProportionArm,
  treatment: ProportionArm,
  options: ConfidenceOptions = {},
): TwoProportionResult {
  checkArm('control', control);
  checkArm('treatment', treatment);
  const confidence = confidenceOf(options);
  const p1 = control.successes / control.trials;
  const p2 = treatment.successes / treatment.trials;
  const difference = p2 - p1;
  const standardError = Math.sqrt((p1 * (1 - p1)) / control.trials + (p2 * (1 - p2)) / treatment.trials);
  const pooled = (control.successes + treatment.successes) / (control.trials + treatment.trials);
  const pooledError = Math.sqrt(pooled * (1 - pooled) * (1 / control.trials + 1 / treatment.trials));
  const z = pooledError === 0 ? 0 : difference / pooledError;
  const critical = normalQuantile(1 - (1 - confidence) / 2);
  return {
    controlRate: p1,
    treatmentRate: p2,
    difference,
    relativeLift: p1 === 0 ? null : difference / p1,
    standardError,
    confidenceInterval: [difference - critical * standardError, difference + critical * standardError],
    confidence,
    z,
    pValue: Math.min(1, 2 * normalSurvival(Math.abs(z))),
  };
}

/** Summary of a numeric sample: its size, mean and sample variance (n − 1 denominator). */
export interface SampleSummary {
  readonly count: number;
  readonly mean: number;
  readonly variance: number;
}

/**
 * Size, mean and unbiased variance of the values (Welford's algorithm, one pass).
 *
 * @throws InvalidArgumentError for a NaN or infinite value.
 */
export function summarize(values: ArrayLike<number>): SampleSummary {
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!Number.isFinite(x))
      throw new InvalidArgumentError(`value ${i} is ${x}; summarize takes finite values`);
    const delta = x - mean;
    mean += delta / (i + 1);
    m2 += delta * (x - mean);
  }
  const count = values.length;
  return { count, mean: count === 0 ? NaN : mean, variance: count < 2 ? NaN : m2 / (count - 1) };
}

/** The result of {@link welchTTest}. */
export interface WelchResult {
  readonly controlMean: number;
  readonly treatmentMean: number;
  /** treatmentMean − controlMean. */
  readonly difference: number;
  /** √(s₁²/n₁ + s₂²/n₂). */
  readonly standardError: number;
  /** Welch–Satterthwaite degrees of freedom. */
  readonly degreesOfFreedom: number;
  readonly t: number;
  /** Two-sided. */
  readonly pValue: number;
  /** difference ± t_{(1+confidence)/2, df} · standardError. */
  readonly confidenceInterval: readonly [number, number];
  readonly confidence: number;
}

function summaryOf(name: string, input: SampleSummary | ArrayLike<number>): SampleSummary {
  const summary =
    'variance' in input && 'mean' in input ? (input as SampleSummary) : summarize(input as ArrayLike<number>);
  if (!Number.isInteger(summary.count) || summary.count < 2) {
    throw new InvalidArgumentError(
      `${name}: Welch's t-test needs at least 2 values per arm, got ${summary.count}`,
    );
  }
  if (!Number.isFinite(summary.mean) || !(summary.variance >= 0 && Number.isFinite(summary.variance))) {
    throw new InvalidArgumentError(`${name}: mean must be finite and variance finite and ≥ 0`);
  }
  return summary;
}

/**
 * Welch's unequal-variances t-test of the means of two samples (raw values or summaries), with
 * Welch–Satterthwaite degrees of freedom and a t-based confidence interval. When both variances
 * are 0 the standard error is 0: the difference is then certain (p = 0) unless it is 0 (p = 1).
 *
 * @throws InvalidArgumentError for an arm with fewer than 2 values, non-finite summaries, or a
 *   confidence outside (0, 1).
 */
export function welchTTest(
  control: SampleSummary | ArrayLike<number>,
  treatment: SampleSummary | ArrayLike<number>,
  options: ConfidenceOptions = {},
): WelchResult {
  const a = summaryOf('control', control);
  const b = summaryOf('treatment', treatment);
  const confidence = confidenceOf(options);
  const va = a.variance / a.count;
  const vb = b.variance / b.count;
  const standardError = Math.sqrt(va + vb);
  const difference = b.mean - a.mean;
  if (standardError === 0) {
    return {
      controlMean: a.mean,
      treatmentMean: b.mean,
      difference,
      standardError,
      degreesOfFreedom: a.count + b.count - 2,
      t: difference === 0 ? 0 : Math.sign(difference) * Infinity,
      pValue: difference === 0 ? 1 : 0,
      confidenceInterval: [difference, difference],
      confidence,
    };
  }
  const degreesOfFreedom = (va + vb) ** 2 / (va ** 2 / (a.count - 1) + vb ** 2 / (b.count - 1));
  const t = difference / standardError;
  const critical = studentTQuantile(1 - (1 - confidence) / 2, degreesOfFreedom);
  return {
    controlMean: a.mean,
    treatmentMean: b.mean,
    difference,
    standardError,
    degreesOfFreedom,
    t,
    pValue: studentTTwoSidedPValue(t, degreesOfFreedom),
    confidenceInterval: [difference - critical * standardError, difference + critical * standardError],
    confidence,
  };
}

/** Input of {@link sampleSizeTwoProportions}. */
export interface SampleSizeInput {
  /** Conversion rate of the control arm, in (0, 1). */
  readonly baselineRate: number;
  /** Smallest absolute difference worth detecting (0.02 = two points), ≠ 0. */
  readonly minimumDetectableEffect: number;
  /** Significance level, two-sided. Default 0.05. */
  readonly alpha?: number;
  /** Probability of detecting the effect when it is real. Default 0.8. */
  readonly power?: number;
}

/**
 * Sample size per arm to detect an absolute difference δ between two proportions with a
 * two-sided test at level α and the given power (normal approximation, no continuity
 * correction; the textbook formula, e.g. Fleiss, Levin and Paik, *Statistical Methods for Rates
 * and Proportions*, ch. 4, before its continuity correction):
 *
 *   n = (z_{1−α/2}·√(2·p̄·(1 − p̄)) + z_{power}·√(p₁(1 − p₁) + p₂(1 − p₂)))² / δ²,
 *   p₂ = p₁ + δ, p̄ = (p₁ + p₂)/2, rounded up.
 *
 * @throws InvalidArgumentError when a rate falls outside (0, 1), δ = 0, or α or power lie
 *   outside (0, 1).
 */
export function sampleSizeTwoProportions(input: SampleSizeInput): number {
  const p1 = input.baselineRate;
  const delta = input.minimumDetectableEffect;
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  const p2 = p1 + delta;
  const problems: string[] = [];
  if (!(p1 > 0 && p1 < 1)) problems.push(`baselineRate must lie in (0, 1), got ${p1}`);
  if (!(delta !== 0 && Number.isFinite(delta)))
    problems.push(`minimumDetectableEffect must be non-zero, got ${delta}`);
  else if (!(p2 > 0 && p2 < 1))
    problems.push(`baselineRate + minimumDetectableEffect = ${p2} must lie in (0, 1)`);
  if (!(alpha > 0 && alpha < 1)) problems.push(`alpha must lie in (0, 1), got ${alpha}`);
  if (!(power > 0 && power < 1)) problems.push(`power must lie in (0, 1), got ${power}`);
  if (problems.length > 0)
    throw new InvalidArgumentError(`invalid sample size input: ${problems.join('; ')}`);
  const mean = (p1 + p2) / 2;
  const za = normalQuantile(1 - alpha / 2);
  const zb = normalQuantile(power);
  const root = za * Math.sqrt(2 * mean * (1 - mean)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  // The tiny slack keeps an exact integer from rounding up because of float noise.
  return Math.ceil((root * root) / (delta * delta) - 1e-9);
}
