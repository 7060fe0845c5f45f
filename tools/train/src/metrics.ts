/** Area under the ROC curve (ties count half), from scores and 0/1 labels. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean binary cross-entropy, with probabilities clipped to [1e-15, 1 - 1e-15]. */
export function logLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = Math.min(1 - 1e-15, Math.max(1e-15, probabilities[i]!));
    total -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return total / probabilities.length;
}

/** Share of rows whose thresholded probability equals the label. */
export function accuracy(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold = 0.5,
): number {
  let right = 0;
  for (let i = 0; i < probabilities.length; i++)
    if ((probabilities[i]! >= threshold ? 1 : 0) === labels[i]) right++;
  return right / probabilities.length;
}

/** Mean squared difference between probability and label. */
export function brierScore(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < probabilities.length; i++) total += (probabilities[i]! - labels[i]!) ** 2;
  return total / probabilities.length;
}

/** One bin of a reliability table: predictions in [lower, upper) (the last bin includes 1). */
export interface ReliabilityBin {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  /** Mean predicted probability of the bin's rows; null when the bin is empty. */
  readonly meanPredicted: number | null;
  /** Share of positives among the bin's rows; null when the bin is empty. */
  readonly observedRate: number | null;
}

/** Calibration of predicted probabilities against labels. */
export interface Calibration {
  /** Expected calibration error: Σ (count / n) · |meanPredicted − observedRate| over the bins. */
  readonly ece: number;
  /** The largest |meanPredicted − observedRate| over non-empty bins. */
  readonly mce: number;
  readonly bins: readonly ReliabilityBin[];
}

/** Calibration over `binCount` equal-width probability bins (default 10). */
export function calibration(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  binCount = 10,
): Calibration {
  const count = new Array<number>(binCount).fill(0);
  const sumP = new Array<number>(binCount).fill(0);
  const sumY = new Array<number>(binCount).fill(0);
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    const b = Math.min(binCount - 1, Math.max(0, Math.floor(p * binCount)));
    count[b]!++;
    sumP[b] += p;
    sumY[b] += labels[i]!;
  }
  let ece = 0;
  let mce = 0;
  const bins = count.map((c, b): ReliabilityBin => {
    const lower = b / binCount;
    const upper = (b + 1) / binCount;
    if (c === 0) return { lower, upper, count: 0, meanPredicted: null, observedRate: null };
    const meanPredicted = sumP[b]! / c;
    const observedRate = sumY[b]! / c;
    const gap = Math.abs(meanPredicted - observedRate);
    ece += (c / probabilities.length) * gap;
    mce = Math.max(mce, gap);
    return { lower, upper, count: c, meanPredicted, observedRate };
  });
  return { ece, mce, bins };
}
