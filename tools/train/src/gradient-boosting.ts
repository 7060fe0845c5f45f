import { createSeededRandom } from '@slipway/onnx';
import type { TreeNodeSpec, TreeSpec } from '@slipway/onnx';

/** Hyper-parameters of {@link fitGradientBoosting}; every field has a documented default. */
export interface GradientBoostingOptions {
  /** Number of trees. Default 100. */
  readonly nEstimators?: number;
  /** Shrinkage applied to every leaf. Default 0.1. */
  readonly learningRate?: number;
  /** Largest number of splits from the root to a leaf. Default 3. */
  readonly maxDepth?: number;
  /** Fewest (subsampled) training rows in a leaf. Default 20. */
  readonly minSamplesLeaf?: number;
  /** Share of the rows each tree is grown on, drawn without replacement. Default 0.8. */
  readonly subsample?: number;
  /** L2 penalty on leaf values (XGBoost's lambda). Default 1. */
  readonly l2?: number;
  /** Most histogram bins per feature (2–256). Default 256. */
  readonly maxBins?: number;
  /** Seed of the row subsampling. Default 0. */
  readonly seed?: number;
}

/**
 * A boosted ensemble for binary classification: `p = sigmoid(baseScore + Σ leaf)`. A row goes
 * left at a branch when `x[featureId] <= threshold`. Thresholds are float32 values taken from the
 * training matrix and leaf values are rounded to float32, so the model is exactly what
 * `buildTreeEnsemble` (comparison LEQ) stores and onnxruntime walks the same paths.
 */
export interface BoostedTrees {
  readonly baseScore: number;
  readonly trees: readonly TreeSpec[];
  readonly featureCount: number;
  /** The options with defaults filled in (recorded as lineage params). */
  readonly options: Required<GradientBoostingOptions>;
}

const DEFAULTS: Required<GradientBoostingOptions> = {
  nEstimators: 100,
  learningRate: 0.1,
  maxDepth: 3,
  minSamplesLeaf: 20,
  subsample: 0.8,
  l2: 1,
  maxBins: 256,
  seed: 0,
};

/** Per-feature bin boundaries: bin(x) = number of cuts < x, so `bin <= b` ⇔ `x <= cuts[b]`. */
interface Binning {
  readonly cuts: Float32Array[];
  /** Column-major bin index of every training row: bins[f * rows + i]. */
  readonly bins: Uint8Array;
}

function binMatrix(matrix: Float32Array, rows: number, width: number, maxBins: number): Binning {
  const cuts: Float32Array[] = [];
  const bins = new Uint8Array(rows * width);
  const column = new Float32Array(rows);
  for (let f = 0; f < width; f++) {
    for (let i = 0; i < rows; i++) column[i] = matrix[i * width + f]!;
    const sorted = Float32Array.from(column).sort();
    const distinct: number[] = [];
    for (const v of sorted) if (distinct.length === 0 || v !== distinct.at(-1)) distinct.push(v);
    let featureCuts: number[];
    if (distinct.length <= maxBins) {
      featureCuts = distinct.slice(0, -1);
    } else {
      // Equal-count bins; each cut is a training value, so it is an exact float32 threshold.
      featureCuts = [];
      for (let k = 1; k < maxBins; k++) {
        const v = sorted[Math.floor((k * rows) / maxBins) - 1]!;
        if (v < distinct.at(-1)! && (featureCuts.length === 0 || v > featureCuts.at(-1)!))
          featureCuts.push(v);
      }
    }
    const c = Float32Array.from(featureCuts);
    cuts.push(c);
    for (let i = 0; i < rows; i++) bins[f * rows + i] = lowerBound(c, column[i]!);
  }
  return { cuts, bins };
}

/** Number of entries of sorted `cuts` that are < x. */
function lowerBound(cuts: Float32Array, x: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cuts[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface SplitChoice {
  gain: number;
  feature: number;
  bin: number;
}

/**
 * Fits gradient-boosted decision trees with the logistic loss (Newton leaves: −G / (H + λ),
 * shrunk by the learning rate) on a row-major float32 matrix, with histogram splits whose
 * thresholds are training values. Deterministic: the seed drives the row subsampling, ties in
 * gain go to the lowest feature and then the lowest threshold, and all sums run in a fixed order.
 *
 * @param labels 0/1 per row.
 */
export function fitGradientBoosting(
  matrix: Float32Array,
  rows: number,
  width: number,
  labels: ArrayLike<number>,
  options: GradientBoostingOptions = {},
): BoostedTrees {
  const o: Required<GradientBoostingOptions> = { ...DEFAULTS, ...options };
  if (rows === 0 || width === 0)
    throw new RangeError('gradient boosting needs at least one row and one feature');
  if (!(o.maxBins >= 2 && o.maxBins <= 256)) throw new RangeError(`maxBins must be 2–256, got ${o.maxBins}`);
  if (!(o.subsample > 0 && o.subsample <= 1))
    throw new RangeError(`subsample must be in (0, 1], got ${o.subsample}`);
  if (!(Number.isInteger(o.maxDepth) && o.maxDepth >= 1))
    throw new RangeError('maxDepth must be an integer ≥ 1');
  if (!(Number.isInteger(o.nEstimators) && o.nEstimators >= 1))
    throw new RangeError('nEstimators must be an integer ≥ 1');
  if (!(o.minSamplesLeaf >= 1)) throw new RangeError('minSamplesLeaf must be ≥ 1');
  if (!(o.learningRate > 0)) throw new RangeError('learningRate must be > 0');
  if (!(o.l2 >= 0)) throw new RangeError('l2 must be ≥ 0');
  const { cuts, bins } = binMatrix(matrix, rows, width, o.maxBins);
  let positives = 0;
  for (let i = 0; i < rows; i++) positives += labels[i]!;
  const prior = Math.min(Math.max(positives / rows, 1e-6), 1 - 1e-6);
  const baseScore = Math.fround(Math.log(prior / (1 - prior)));
  const margin = new Float64Array(rows).fill(baseScore);
  const grad = new Float64Array(rows);
  const hess = new Float64Array(rows);
  const random = createSeededRandom(o.seed);
  const sampleSize = Math.max(1, Math.round(rows * o.subsample));
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  const trees: TreeSpec[] = [];

  for (let t = 0; t < o.nEstimators; t++) {
    for (let i = 0; i < rows; i++) {
      const p = 1 / (1 + Math.exp(-margin[i]!));
      grad[i] = p - labels[i]!;
      hess[i] = Math.max(p * (1 - p), 1e-16);
    }
    let sample: Int32Array;
    if (sampleSize === rows) sample = order.slice();
    else {
      // Partial Fisher–Yates over a persistent permutation: seeded, without replacement.
      for (let k = 0; k < sampleSize; k++) {
        const j = k + random.int(rows - k);
        const swap = order[k]!;
        order[k] = order[j]!;
        order[j] = swap;
      }
      sample = order.slice(0, sampleSize).sort();
    }
    const nodes: TreeNodeSpec[] = [];
    const splitBins: number[] = [];
    const grow = (members: Int32Array, depth: number): number => {
      const index = nodes.length;
      nodes.push({});
      let g = 0;
      let h = 0;
      for (const i of members) {
        g += grad[i]!;
        h += hess[i]!;
      }
      const split =
        depth < o.maxDepth && members.length >= 2 * o.minSamplesLeaf
          ? bestSplit(members, g, h, bins, cuts, rows, grad, hess, o)
          : undefined;
      if (split === undefined) {
        nodes[index] = { leafValue: Math.fround((-g / (h + o.l2)) * o.learningRate) };
        return index;
      }
      const column = split.feature * rows;
      const left = members.filter((i) => bins[column + i]! <= split.bin);
      const right = members.filter((i) => bins[column + i]! > split.bin);
      const leftIndex = grow(left, depth + 1);
      const rightIndex = grow(right, depth + 1);
      splitBins[index] = split.bin;
      nodes[index] = {
        featureId: split.feature,
        threshold: cuts[split.feature]![split.bin]!,
        left: leftIndex,
        right: rightIndex,
      };
      return index;
    };
    grow(sample, 0);
    const tree: TreeSpec = { nodes };
    trees.push(tree);
    // Every row (not just the sample) moves by the tree; binned walk = threshold walk on training rows.
    for (let i = 0; i < rows; i++) {
      let k = 0;
      let n = nodes[0]!;
      while (n.leafValue === undefined) {
        k = bins[n.featureId! * rows + i]! <= splitBins[k]! ? n.left! : n.right!;
        n = nodes[k]!;
      }
      margin[i] += n.leafValue;
    }
  }
  return { baseScore, trees, featureCount: width, options: o };
}

function bestSplit(
  members: Int32Array,
  g: number,
  h: number,
  bins: Uint8Array,
  cuts: Float32Array[],
  rows: number,
  grad: Float64Array,
  hess: Float64Array,
  o: Required<GradientBoostingOptions>,
): SplitChoice | undefined {
  const parentScore = (g * g) / (h + o.l2);
  let best: SplitChoice | undefined;
  const gHist = new Float64Array(256);
  const hHist = new Float64Array(256);
  const cHist = new Int32Array(256);
  for (let f = 0; f < cuts.length; f++) {
    const nBins = cuts[f]!.length + 1;
    if (nBins < 2) continue;
    gHist.fill(0, 0, nBins);
    hHist.fill(0, 0, nBins);
    cHist.fill(0, 0, nBins);
    const column = f * rows;
    for (const i of members) {
      const b = bins[column + i]!;
      gHist[b] += grad[i]!;
      hHist[b] += hess[i]!;
      cHist[b]++;
    }
    let gl = 0;
    let hl = 0;
    let cl = 0;
    for (let b = 0; b < nBins - 1; b++) {
      gl += gHist[b]!;
      hl += hHist[b]!;
      cl += cHist[b]!;
      if (cl < o.minSamplesLeaf) continue;
      if (members.length - cl < o.minSamplesLeaf) break;
      const gr = g - gl;
      const hr = h - hl;
      const gain = (gl * gl) / (hl + o.l2) + (gr * gr) / (hr + o.l2) - parentScore;
      // A relative floor keeps rounding noise from creating splits that change nothing.
      if (gain > 1e-12 * Math.max(1, parentScore) && (best === undefined || gain > best.gain)) {
        best = { gain, feature: f, bin: b };
      }
    }
  }
  return best;
}

/**
 * Margins (`baseScore + Σ leaf`) of the ensemble on a row-major float32 matrix, comparing each
 * value with the float32 threshold exactly as onnxruntime's BRANCH_LEQ does.
 */
export function boostedMargins(model: BoostedTrees, matrix: Float32Array, rows: number): Float64Array {
  const width = model.featureCount;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let score = model.baseScore;
    for (const tree of model.trees) {
      let n = tree.nodes[0]!;
      while (n.leafValue === undefined)
        n = tree.nodes[matrix[i * width + n.featureId!]! <= n.threshold! ? n.left! : n.right!]!;
      score += n.leafValue;
    }
    out[i] = score;
  }
  return out;
}

/** Probabilities `sigmoid(margin)` of the ensemble on a row-major float32 matrix. */
export function boostedProbabilities(model: BoostedTrees, matrix: Float32Array, rows: number): Float64Array {
  return boostedMargins(model, matrix, rows).map((m) => 1 / (1 + Math.exp(-m)));
}
