/**
 * Shadow comparison: how far a shadow model's outputs stray from the primary's on the same
 * requests.
 */
import { InvalidArgumentError } from '@slipway/errors';

/**
 * The outputs of both models for one request: a score (binary classifier or regression) or a
 * vector (class scores). Vectors must have the same length on both sides.
 */
export interface ShadowPair {
  readonly primary: number | ArrayLike<number>;
  readonly shadow: number | ArrayLike<number>;
  /** Identifies the request in the disagreement list, e.g. its request id. */
  readonly id?: string;
}

/** Options of {@link compareShadow}. */
export interface ShadowOptions {
  /** A score at or above it is the positive class. Default 0.5. */
  readonly threshold?: number;
  /** How many of the largest disagreements to return. Default 10. */
  readonly topK?: number;
}

/** One request in the disagreement list. */
export interface ShadowDisagreement {
  /** Position in the input. */
  readonly index: number;
  readonly id?: string;
  readonly primaryClass: number;
  readonly shadowClass: number;
  /** Largest absolute difference over the outputs' components. */
  readonly absoluteDifference: number;
}

/** The result of {@link compareShadow}. */
export interface ShadowReport {
  readonly count: number;
  /** Share of requests where both models predict the same class; null when count is 0. */
  readonly agreementRate: number | null;
  /** Mean and largest absolute score difference (per request, the largest over components). */
  readonly meanAbsoluteDifference: number | null;
  readonly maxAbsoluteDifference: number | null;
  /** Largest differences first; ties by input order. */
  readonly topDisagreements: readonly ShadowDisagreement[];
}

// The class of a score (threshold) or of a vector (argmax, first on ties; a one-element vector is
// a score).
function classOf(output: ArrayLike<number>, threshold: number): number {
  if (output.length === 1) return output[0]! >= threshold ? 1 : 0;
  let best = 0;
  for (let k = 1; k < output.length; k++) if (output[k]! > output[best]!) best = k;
  return best;
}

function asVector(output: number | ArrayLike<number>): ArrayLike<number> {
  return typeof output === 'number' ? [output] : output;
}

/**
 * Compares paired primary and shadow outputs: class agreement (threshold for scores, argmax for
 * vectors), mean and max absolute difference, and the top-k requests by absolute difference.
 *
 * @throws InvalidArgumentError for outputs of different lengths, an empty or NaN output, or bad
 *   options.
 */
export function compareShadow(pairs: readonly ShadowPair[], options: ShadowOptions = {}): ShadowReport {
  const threshold = options.threshold ?? 0.5;
  const topK = options.topK ?? 10;
  if (!Number.isFinite(threshold))
    throw new InvalidArgumentError(`threshold must be finite, got ${threshold}`);
  if (!Number.isInteger(topK) || topK < 0)
    throw new InvalidArgumentError(`topK must be an integer ≥ 0, got ${topK}`);
  let agree = 0;
  let sum = 0;
  let max = 0;
  const all: ShadowDisagreement[] = [];
  pairs.forEach((pair, index) => {
    const primary = asVector(pair.primary);
    const shadow = asVector(pair.shadow);
    if (primary.length === 0 || primary.length !== shadow.length) {
      throw new InvalidArgumentError(
        `pair ${index}: primary has ${primary.length} outputs and shadow ${shadow.length}; they must match and be non-empty`,
      );
    }
    let difference = 0;
    for (let k = 0; k < primary.length; k++) {
      const d = Math.abs(primary[k]! - shadow[k]!);
      if (Number.isNaN(d)) throw new InvalidArgumentError(`pair ${index}: output ${k} is NaN`);
      difference = Math.max(difference, d);
    }
    const primaryClass = classOf(primary, threshold);
    const shadowClass = classOf(shadow, threshold);
    if (primaryClass === shadowClass) agree++;
    sum += difference;
    max = Math.max(max, difference);
    all.push({
      index,
      ...(pair.id === undefined ? {} : { id: pair.id }),
      primaryClass,
      shadowClass,
      absoluteDifference: difference,
    });
  });
  const count = pairs.length;
  const topDisagreements = all
    .filter((d) => d.absoluteDifference > 0 || d.primaryClass !== d.shadowClass)
    .sort((a, b) => b.absoluteDifference - a.absoluteDifference || a.index - b.index)
    .slice(0, topK);
  return {
    count,
    agreementRate: count === 0 ? null : agree / count,
    meanAbsoluteDifference: count === 0 ? null : sum / count,
    maxAbsoluteDifference: count === 0 ? null : max,
    topDisagreements,
  };
}
