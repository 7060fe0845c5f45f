/**
 * Performance of a binary classifier from labelled pairs (score, label): ROC AUC, log loss,
 * thresholded accuracy/precision/recall, and calibration.
 */
import { InvalidArgumentError } from '@slipway/errors';

/** Options of {@link classificationMetrics}. */
export interface ClassificationOptions {
  /** Scores at or above it predict the positive class. Default 0.5. */
  readonly threshold?: number;
  /** Equal-width reliability bins over [0, 1]. Default 10. */
  readonly calibrationBins?: number;
  /** Probabilities are clipped to [ε, 1 − ε] in log loss. Default 1e-15 (scikit-learn's). */
  readonly logLossEpsilon?: number;
}

/** One reliability bin: scores in [lower, upper) (the last bin includes 1). */
export interface CalibrationBin {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  /** Mean score and share of positives in the bin; null when the bin is empty. */
  readonly meanScore: number | null;
  readonly positiveRate: number | null;
}

/** The result of {@link classificationMetrics}. */
export interface ClassificationReport {
  readonly count: number;
  readonly positives: number;
  readonly negatives: number;
  /** Null when only one class is present. */
  readonly auc: number | null;
  readonly logLoss: number;
  readonly threshold: number;
  readonly accuracy: number;
  /** Null when nothing was predicted positive. */
  readonly precision: number | null;
  /** Null when there are no positives. */
  readonly recall: number | null;
  readonly confusion: {
    readonly truePositives: number;
    readonly falsePositives: number;
    readonly trueNegatives: number;
    readonly falseNegatives: number;
  };
  readonly calibration: {
    readonly bins: readonly CalibrationBin[];
    /** Expected calibration error: Σ (n_b/N)·|positive rate_b − mean score_b|. */
    readonly expectedCalibrationError: number;
    /** The largest such gap over non-empty bins. */
    readonly maxCalibrationError: number;
  };
}

function labelsOf(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): Uint8Array {
  if (scores.length !== labels.length) {
    throw new InvalidArgumentError(
      `${scores.length} scores for ${labels.length} labels; pass one score per label`,
    );
  }
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label === 1 || label === true) out[i] = 1;
    else if (label !== 0 && label !== false) {
      throw new InvalidArgumentError(`label ${i} is ${String(label)}; labels must be 0/1 or false/true`);
    }
    if (Number.isNaN(scores[i])) throw new InvalidArgumentError(`score ${i} is NaN`);
  }
  return out;
}

/**
 * ROC AUC by the Mann–Whitney U statistic: the probability that a random positive scores above a
 * random negative, ties counting one half (average ranks). Null when either class is absent.
 *
 * @throws InvalidArgumentError when the lengths differ, a label is not 0/1, or a score is NaN.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number | null {
  const y = labelsOf(scores, labels);
  const n = y.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i]!;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
  let positiveRankSum = 0;
  for (let i = 0; i < n;) {
    let end = i + 1;
    while (end < n && scores[order[end]!] === scores[order[i]!]) end++;
    // Ranks i+1 … end share their average.
    const averageRank = (i + 1 + end) / 2;
    for (let k = i; k < end; k++) if (y[order[k]!] === 1) positiveRankSum += averageRank;
    i = end;
  }
  const u = positiveRankSum - (positives * (positives + 1)) / 2;
  return u / (positives * negatives);
}

/**
 * Metrics of scores in [0, 1] against 0/1 labels.
 *
 * @throws InvalidArgumentError when there are no pairs, the lengths differ, a label is not 0/1, a
 *   score lies outside [0, 1], or an option is out of range.
 */
export function classificationMetrics(
  scores: ArrayLike<number>,
  labels: ArrayLike<number | boolean>,
  options: ClassificationOptions = {},
): ClassificationReport {
  const threshold = options.threshold ?? 0.5;
  const binCount = options.calibrationBins ?? 10;
  const epsilon = options.logLossEpsilon ?? 1e-15;
  if (!Number.isFinite(threshold))
    throw new InvalidArgumentError(`threshold must be finite, got ${threshold}`);
  if (!Number.isInteger(binCount) || binCount < 1) {
    throw new InvalidArgumentError(`calibrationBins must be an integer ≥ 1, got ${binCount}`);
  }
  if (!(epsilon > 0 && epsilon < 0.5))
    throw new InvalidArgumentError(`logLossEpsilon must lie in (0, 0.5), got ${epsilon}`);
  const y = labelsOf(scores, labels);
  const n = y.length;
  if (n === 0) throw new InvalidArgumentError('classification metrics need at least one labelled pair');

  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let logLossSum = 0;
  const binCounts = new Array<number>(binCount).fill(0);
  const binScores = new Array<number>(binCount).fill(0);
  const binPositives = new Array<number>(binCount).fill(0);
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    if (!(s >= 0 && s <= 1))
      throw new InvalidArgumentError(`score ${i} is ${s}; scores must be probabilities in [0, 1]`);
    const positive = y[i] === 1;
    const predicted = s >= threshold;
    if (predicted && positive) tp++;
    else if (predicted) fp++;
    else if (positive) fn++;
    else tn++;
    const clipped = Math.min(1 - epsilon, Math.max(epsilon, s));
    logLossSum -= positive ? Math.log(clipped) : Math.log(1 - clipped);
    const b = Math.min(binCount - 1, Math.floor(s * binCount));
    binCounts[b]!++;
    binScores[b]! += s;
    binPositives[b]! += y[i]!;
  }
  let ece = 0;
  let mce = 0;
  const bins = binCounts.map((count, b): CalibrationBin => {
    const lower = b / binCount;
    const upper = (b + 1) / binCount;
    if (count === 0) return { lower, upper, count, meanScore: null, positiveRate: null };
    const meanScore = binScores[b]! / count;
    const positiveRate = binPositives[b]! / count;
    const gap = Math.abs(positiveRate - meanScore);
    ece += (count / n) * gap;
    mce = Math.max(mce, gap);
    return { lower, upper, count, meanScore, positiveRate };
  });
  const positives = tp + fn;
  return {
    count: n,
    positives,
    negatives: n - positives,
    auc: rocAuc(scores, labels),
    logLoss: logLossSum / n,
    threshold,
    accuracy: (tp + tn) / n,
    precision: tp + fp === 0 ? null : tp / (tp + fp),
    recall: positives === 0 ? null : tp / positives,
    confusion: { truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn },
    calibration: { bins, expectedCalibrationError: ece, maxCalibrationError: mce },
  };
}
