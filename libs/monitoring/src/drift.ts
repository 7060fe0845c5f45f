/**
 * Drift of serving data against a model version's reference profile (`@slipway/features`
 * {@link ReferenceProfile}). Numeric features: a Kolmogorov–Smirnov test against the reference
 * CDF rebuilt from the stored quantiles, plus PSI on the reference histogram's decile bins.
 * Categorical (one-hot) features: a chi-square test of the current counts against the reference
 * counts, plus the Jensen–Shannon distance. A feature drifts, by default, when its test is
 * significant after a Benjamini–Hochberg correction across the window's features AND its
 * distance reaches the threshold: significance alone flags harmless shifts once windows are
 * large, a distance alone is noise when windows are small. See the package README.
 */
import { InvalidArgumentError } from '@slipway/errors';
import { binIndex, type FeatureProfile, type NumericProfile, type ReferenceProfile } from '@slipway/features';
import { adjustPValues, type PValueCorrection } from './multiple-testing.js';
import { chiSquareSurvival, kolmogorovSurvival } from './special-functions.js';

/**
 * Share that stands in for an empty bin in PSI (in either distribution). Without it a bin empty
 * on one side makes PSI infinite; with it such a bin adds (share − ε)·ln(share/ε), about
 * 9.2 × share, so a category or range that appears from nowhere still dominates the index.
 */
export const PSI_EPSILON = 1e-4;

/** Defaults of {@link DriftOptions}; the README explains each choice. */
export const DRIFT_DEFAULTS = {
  alpha: 0.05,
  correction: 'benjamini-hochberg',
  psiThreshold: 0.1,
  jensenShannonThreshold: 0.1,
  minSamples: 100,
  rule: 'test-and-distance',
} as const satisfies Omit<Required<DriftOptions>, 'binnedFeatures'>;

/**
 * Which signal decides that a feature drifted:
 * - `test-and-distance` (default): the test's corrected p-value ≤ α and the distance (PSI or
 *   Jensen–Shannon) ≥ its threshold;
 * - `test`: the corrected p-value alone (NannyML's KS and chi2 alerts, Evidently's small-data
 *   default);
 * - `distance`: the distance alone (Evidently's large-data and NannyML's default methods).
 */
export type DriftRule = 'test-and-distance' | 'test' | 'distance';

/** Options of {@link detectDrift}. */
export interface DriftOptions {
  /** Significance level of the corrected p-values. Default 0.05. */
  readonly alpha?: number;
  /** Correction across the window's tests. Default `benjamini-hochberg`. */
  readonly correction?: PValueCorrection;
  /** PSI at or above which a numeric feature counts as shifted. Default 0.2 (see README). */
  readonly psiThreshold?: number;
  /** Jensen–Shannon distance (base 2, in [0, 1]) threshold for categorical features. Default 0.1. */
  readonly jensenShannonThreshold?: number;
  /**
   * Fewest present values, in the window and in the reference, for a verdict; below it a feature
   * is `'insufficient'`. Default 100: the smallest window in which PSI on ten decile bins stays
   * below 0.2 for 95 % of windows without drift (PSI ≈ (1/n + 1/m)·χ²₉, whose 95th percentile is
   * 16.9).
   */
  readonly minSamples?: number;
  /** Default `test-and-distance`. */
  readonly rule?: DriftRule;
  /**
   * Numeric features to test with a chi-square test on the reference histogram's bins instead of
   * KS: use it for discrete values (counts, hours, bucket indices), whose steps a
   * piecewise-linear reference CDF cannot follow. Hash-index features are always tested so.
   */
  readonly binnedFeatures?: readonly string[];
}

/** Current counts of a categorical (one-hot) feature. */
export interface CategoryCounts {
  /**
   * Counts per category, keyed by category as in the profile (`"red"`, `"__unknown__"`), or in
   * the profile's column order. Categories left out count 0.
   */
  readonly counts: Readonly<Record<string, number>> | readonly number[];
  /** Rows in which the feature was missing (no column set). */
  readonly missing?: number;
}

/** One feature's current data: the values of a numeric feature (NaN = missing), or counts. */
export type DriftColumn = ArrayLike<number> | CategoryCounts;

/** The current window: per feature (by name) its column, and the model's predictions. */
export interface DriftWindow {
  readonly features: Readonly<Record<string, DriftColumn>>;
  /** Predictions (one score per row), compared with the profile's `prediction`. */
  readonly prediction?: ArrayLike<number>;
}

/** The drift verdict of one feature (or of the predictions). */
export interface FeatureDrift {
  readonly name: string;
  readonly target: 'feature' | 'prediction';
  /** The test: KS for numeric values, chi-square for categories and binned numeric features. */
  readonly method: 'kolmogorov-smirnov' | 'chi-square';
  /** KS D or the chi-square statistic; null when the window has no values. */
  readonly statistic: number | null;
  /** Degrees of freedom of a chi-square test; null for KS. */
  readonly degreesOfFreedom: number | null;
  readonly pValue: number | null;
  /** After the correction across the window; null for features with insufficient data. */
  readonly adjustedPValue: number | null;
  readonly distanceMethod: 'psi' | 'jensen-shannon';
  readonly distance: number | null;
  /** Threshold of the distance. */
  readonly threshold: number;
  readonly drifted: boolean | 'insufficient';
  /** Present (non-missing) values in the window and in the reference. */
  readonly sampleSize: number;
  readonly referenceSize: number;
  /** Share of the window's rows in which the feature was missing; null when unknown. */
  readonly missingRate: number | null;
  readonly referenceMissingRate: number | null;
}

/** The result of {@link detectDrift}. */
export interface DriftReport {
  /** Features of the profile that the window has a column for, in profile order. */
  readonly features: readonly FeatureDrift[];
  readonly prediction?: FeatureDrift;
  /** True when any feature or the prediction drifted. */
  readonly drifted: boolean;
  readonly driftedFeatures: readonly string[];
  readonly insufficientFeatures: readonly string[];
  /** Drifted features over features with a verdict (0 when none has one). */
  readonly driftedShare: number;
  /** The options in force, defaults filled in. */
  readonly options: Required<Omit<DriftOptions, 'binnedFeatures'>>;
}

/** Result of {@link kolmogorovSmirnovAgainstProfile}. */
export interface KolmogorovSmirnovResult {
  readonly statistic: number;
  readonly pValue: number;
  /** n·m/(n+m), the sample size the asymptotic p-value is taken at. */
  readonly effectiveSize: number;
}

/** Result of {@link chiSquareHomogeneity}. */
export interface ChiSquareResult {
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
}

function presentSorted(values: ArrayLike<number>): Float64Array {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) count++;
  const out = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x === x) out[k++] = x;
  }
  return out.sort();
}

// Index of the first element ≥ x (lower bound) in ascending values.
function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function total(counts: readonly number[]): number {
  let sum = 0;
  for (const c of counts) sum += c;
  return sum;
}

/**
 * Counts of the non-NaN values per bin of a profile histogram: bin i holds
 * [edges[i−1], edges[i]) as `binIndex` of `@slipway/features` defines it.
 */
export function histogramCounts(edges: readonly number[], values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x === x) counts[binIndex(edges, x)]!++;
  }
  return counts;
}

/**
 * Population stability index Σ (a − e)·ln(a/e) over bins, where e and a are the shares of the
 * expected (reference) and actual (current) counts, each floored at `epsilon`
 * ({@link PSI_EPSILON}). Conventional reading: < 0.1 no significant change, 0.1–0.2 slight,
 * ≥ 0.2 significant.
 *
 * @throws InvalidArgumentError when the bin counts differ in length or either total is 0.
 */
export function populationStabilityIndex(
  expected: readonly number[],
  actual: readonly number[],
  epsilon = PSI_EPSILON,
): number {
  if (expected.length !== actual.length) {
    throw new InvalidArgumentError(
      `PSI needs the same bins: ${expected.length} expected vs ${actual.length} actual`,
    );
  }
  const e = total(expected);
  const a = total(actual);
  if (!(e > 0 && a > 0)) throw new InvalidArgumentError('PSI needs counts in both distributions');
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const pe = Math.max(expected[i]! / e, epsilon);
    const pa = Math.max(actual[i]! / a, epsilon);
    psi += (pa - pe) * Math.log(pa / pe);
  }
  return psi;
}

/**
 * Jensen–Shannon distance (the square root of the divergence, base 2, so in [0, 1]) between two
 * distributions given as counts or shares over the same categories. NannyML's definition.
 *
 * @throws InvalidArgumentError when the lengths differ or either total is 0.
 */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) {
    throw new InvalidArgumentError(`Jensen–Shannon needs the same categories: ${p.length} vs ${q.length}`);
  }
  const sp = total(p);
  const sq = total(q);
  if (!(sp > 0 && sq > 0))
    throw new InvalidArgumentError('Jensen–Shannon needs counts in both distributions');
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp;
    const b = q[i]! / sq;
    const m = (a + b) / 2;
    if (a > 0) divergence += 0.5 * a * Math.log2(a / m);
    if (b > 0) divergence += 0.5 * b * Math.log2(b / m);
  }
  return Math.sqrt(Math.max(0, Math.min(1, divergence)));
}

/**
 * Chi-square test of homogeneity of two count vectors over the same categories (the 2 × k
 * contingency table, as NannyML's `chi2` uses). Unlike a goodness-of-fit test against the
 * reference shares it counts the reference as the sample it is, and a category absent from the
 * reference (the unknown bucket) does not make the statistic infinite. Categories empty on both
 * sides are dropped; df = (categories left − 1).
 *
 * @throws InvalidArgumentError when the lengths differ or either total is 0.
 */
export function chiSquareHomogeneity(
  reference: readonly number[],
  current: readonly number[],
): ChiSquareResult {
  if (reference.length !== current.length) {
    throw new InvalidArgumentError(
      `chi-square needs the same categories: ${reference.length} vs ${current.length}`,
    );
  }
  const r = total(reference);
  const c = total(current);
  if (!(r > 0 && c > 0)) throw new InvalidArgumentError('chi-square needs counts in both samples');
  const n = r + c;
  let statistic = 0;
  let categories = 0;
  for (let i = 0; i < reference.length; i++) {
    const column = reference[i]! + current[i]!;
    if (column === 0) continue;
    categories++;
    const expectedReference = (r * column) / n;
    const expectedCurrent = (c * column) / n;
    statistic += (reference[i]! - expectedReference) ** 2 / expectedReference;
    statistic += (current[i]! - expectedCurrent) ** 2 / expectedCurrent;
  }
  const degreesOfFreedom = categories - 1;
  const pValue = degreesOfFreedom === 0 ? 1 : chiSquareSurvival(statistic, degreesOfFreedom);
  return { statistic, degreesOfFreedom, pValue };
}

/**
 * Two-sample Kolmogorov–Smirnov test of a sample against a profiled reference whose CDF is
 * rebuilt from its quantiles: piecewise-linear between the quantiles (and stepping at tied
 * ones), 0 below the minimum and 1 above the maximum. In the two outer segments (minimum to
 * first decile, last decile to maximum) a straight line is a poor stand-in for a tail: for a
 * normal feature profiled on 10,000 rows it is off by up to 0.05, more than the 5 % critical value
 * of D at n = 1,000 (0.045), and such a test flags every window. There the CDF is compared only at
 * the quantiles themselves, where it is exact. The p-value is the asymptotic
 * Kolmogorov one at λ = √(n·m/(n+m))·D, m the reference count. NaN values are ignored.
 *
 * @throws InvalidArgumentError when the sample has no values, the reference is empty, or the
 *   quantiles do not match the probabilities.
 */
export function kolmogorovSmirnovAgainstProfile(
  reference: NumericProfile,
  probabilities: readonly number[],
  sample: ArrayLike<number>,
): KolmogorovSmirnovResult {
  const q = reference.quantiles;
  const p = probabilities;
  const k = q.length;
  if (reference.count === 0 || k < 2)
    throw new InvalidArgumentError('the reference has no values to test against');
  if (p.length !== k) {
    throw new InvalidArgumentError(`the reference has ${k} quantiles for ${p.length} probabilities`);
  }
  const sorted = presentSorted(sample);
  const n = sorted.length;
  if (n === 0) throw new InvalidArgumentError('the sample has no values (all missing)');

  const cdf = (x: number): number => {
    if (x < q[0]!) return 0;
    if (x >= q[k - 1]!) return p[k - 1]!;
    const j = binIndex(q, x) - 1; // q[j] ≤ x < q[j + 1]
    return p[j]! + ((p[j + 1]! - p[j]!) * (x - q[j]!)) / (q[j + 1]! - q[j]!);
  };
  let d = 0;
  // At the quantiles the reference CDF is known: p of the last tied quantile at the value, p of
  // the first one just below it (0 below the minimum).
  for (let j = 0; j < k;) {
    let last = j;
    while (last + 1 < k && q[last + 1] === q[j]) last++;
    const v = q[j]!;
    const below = lowerBound(sorted, v) / n;
    const atOrBelow = binIndex(sorted, v) / n;
    d = Math.max(d, Math.abs(below - (j === 0 ? 0 : p[j]!)), Math.abs(atOrBelow - p[last]!));
    j = last + 1;
  }
  // Between the quantiles of the inner segments the sup is reached at the sample's jumps.
  const lo = q[1]!;
  const hi = q[k - 2]!;
  for (let i = lowerBound(sorted, lo); i < n && sorted[i]! <= hi;) {
    const x = sorted[i]!;
    let end = i + 1;
    while (end < n && sorted[end] === x) end++;
    if (q[binIndex(q, x) - 1] !== x) {
      const f = cdf(x);
      d = Math.max(d, Math.abs(i / n - f), Math.abs(end / n - f));
    }
    i = end;
  }
  const m = reference.count;
  const effectiveSize = (n * m) / (n + m);
  return { statistic: d, pValue: kolmogorovSurvival(Math.sqrt(effectiveSize) * d), effectiveSize };
}

interface Evaluation {
  name: string;
  target: 'feature' | 'prediction';
  method: FeatureDrift['method'];
  statistic: number | null;
  degreesOfFreedom: number | null;
  pValue: number | null;
  distanceMethod: FeatureDrift['distanceMethod'];
  distance: number | null;
  threshold: number;
  sufficient: boolean;
  sampleSize: number;
  referenceSize: number;
  missingRate: number | null;
  referenceMissingRate: number | null;
}

function evaluateNumeric(
  name: string,
  target: Evaluation['target'],
  reference: NumericProfile,
  probabilities: readonly number[],
  values: ArrayLike<number>,
  binned: boolean,
  options: Required<Omit<DriftOptions, 'binnedFeatures'>>,
  referenceMissingRate: number | null,
): Evaluation {
  let present = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) present++;
  const referenceSize = reference.count;
  const base = {
    name,
    target,
    method: binned ? ('chi-square' as const) : ('kolmogorov-smirnov' as const),
    distanceMethod: 'psi' as const,
    threshold: options.psiThreshold,
    sampleSize: present,
    referenceSize,
    missingRate: values.length === 0 ? null : (values.length - present) / values.length,
    referenceMissingRate,
    sufficient: present >= options.minSamples && referenceSize >= options.minSamples,
  };
  if (present === 0 || referenceSize === 0) {
    return { ...base, statistic: null, degreesOfFreedom: null, pValue: null, distance: null };
  }
  const current = histogramCounts(reference.histogram.edges, values);
  const distance = populationStabilityIndex(reference.histogram.counts, current);
  if (binned) {
    const test = chiSquareHomogeneity(reference.histogram.counts, current);
    return {
      ...base,
      statistic: test.statistic,
      degreesOfFreedom: test.degreesOfFreedom,
      pValue: test.pValue,
      distance,
    };
  }
  const test = kolmogorovSmirnovAgainstProfile(reference, probabilities, values);
  return { ...base, statistic: test.statistic, degreesOfFreedom: null, pValue: test.pValue, distance };
}

function categoryCounts(feature: FeatureProfile, column: CategoryCounts): number[] {
  const categories = feature.categories!;
  const { counts } = column;
  let out: number[];
  if (Array.isArray(counts)) {
    if (counts.length !== categories.length) {
      throw new InvalidArgumentError(
        `feature "${feature.name}" has ${categories.length} categories; got ${counts.length} counts (pass them in column order)`,
      );
    }
    out = (counts as readonly number[]).slice();
  } else {
    const index = new Map(categories.map((c, i) => [c.category, i]));
    out = new Array<number>(categories.length).fill(0);
    for (const [category, count] of Object.entries(counts as Record<string, number>)) {
      const i = index.get(category);
      if (i === undefined) {
        throw new InvalidArgumentError(
          `feature "${feature.name}" has no category "${category}" (categories: ${categories.map((c) => c.category).join(', ')})`,
        );
      }
      out[i] = count;
    }
  }
  for (const c of out) {
    if (!(c >= 0 && Number.isFinite(c))) {
      throw new InvalidArgumentError(`feature "${feature.name}": counts must be finite and ≥ 0, got ${c}`);
    }
  }
  return out;
}

function evaluateCategorical(
  feature: FeatureProfile,
  column: CategoryCounts,
  options: Required<Omit<DriftOptions, 'binnedFeatures'>>,
): Evaluation {
  const current = categoryCounts(feature, column);
  const reference = feature.categories!.map((c) => c.count);
  const present = total(current);
  const referenceSize = total(reference);
  const missing = column.missing ?? 0;
  if (!(missing >= 0 && Number.isFinite(missing))) {
    throw new InvalidArgumentError(
      `feature "${feature.name}": missing must be finite and ≥ 0, got ${missing}`,
    );
  }
  const base = {
    name: feature.name,
    target: 'feature' as const,
    method: 'chi-square' as const,
    distanceMethod: 'jensen-shannon' as const,
    threshold: options.jensenShannonThreshold,
    sampleSize: present,
    referenceSize,
    missingRate: present + missing === 0 ? null : missing / (present + missing),
    referenceMissingRate: feature.missingRate,
    sufficient: present >= options.minSamples && referenceSize >= options.minSamples,
  };
  if (present === 0 || referenceSize === 0) {
    return { ...base, statistic: null, degreesOfFreedom: null, pValue: null, distance: null };
  }
  const test = chiSquareHomogeneity(reference, current);
  return {
    ...base,
    statistic: test.statistic,
    degreesOfFreedom: test.degreesOfFreedom,
    pValue: test.pValue,
    distance: jensenShannonDistance(reference, current),
  };
}

function resolveOptions(options: DriftOptions): Required<Omit<DriftOptions, 'binnedFeatures'>> {
  const resolved = {
    alpha: options.alpha ?? DRIFT_DEFAULTS.alpha,
    correction: options.correction ?? DRIFT_DEFAULTS.correction,
    psiThreshold: options.psiThreshold ?? DRIFT_DEFAULTS.psiThreshold,
    jensenShannonThreshold: options.jensenShannonThreshold ?? DRIFT_DEFAULTS.jensenShannonThreshold,
    minSamples: options.minSamples ?? DRIFT_DEFAULTS.minSamples,
    rule: options.rule ?? DRIFT_DEFAULTS.rule,
  };
  const problems: string[] = [];
  if (!(resolved.alpha > 0 && resolved.alpha < 1))
    problems.push(`alpha must lie in (0, 1), got ${resolved.alpha}`);
  if (!(resolved.psiThreshold >= 0)) problems.push(`psiThreshold must be ≥ 0, got ${resolved.psiThreshold}`);
  if (!(resolved.jensenShannonThreshold >= 0 && resolved.jensenShannonThreshold <= 1)) {
    problems.push(`jensenShannonThreshold must lie in [0, 1], got ${resolved.jensenShannonThreshold}`);
  }
  if (!(Number.isInteger(resolved.minSamples) && resolved.minSamples >= 1)) {
    problems.push(`minSamples must be an integer ≥ 1, got ${resolved.minSamples}`);
  }
  if (!['benjamini-hochberg', 'bonferroni', 'none'].includes(resolved.correction)) {
    problems.push(`correction must be benjamini-hochberg, bonferroni or none, got ${resolved.correction}`);
  }
  if (!['test-and-distance', 'test', 'distance'].includes(resolved.rule)) {
    problems.push(`rule must be test-and-distance, test or distance, got ${resolved.rule}`);
  }
  if (problems.length > 0) throw new InvalidArgumentError(`invalid drift options: ${problems.join('; ')}`);
  return resolved;
}

/**
 * Compares a window of serving data with a reference profile, feature by feature and for the
 * predictions, and decides which drifted (see {@link DriftRule}). Features the window has no
 * column for are left out of the report. All tests with enough data in the window share one
 * p-value correction.
 *
 * @throws InvalidArgumentError for a column naming no feature of the profile, a column of the
 *   wrong shape (values for a one-hot feature, counts for a numeric one), predictions when the
 *   profile has none, or invalid options.
 */
export function detectDrift(
  profile: ReferenceProfile,
  window: DriftWindow,
  options: DriftOptions = {},
): DriftReport {
  const resolved = resolveOptions(options);
  const binned = new Set(options.binnedFeatures ?? []);
  const known = new Set(profile.features.map((f) => f.name));
  const unknown = Object.keys(window.features).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `the window names features not in the profile of feature set "${profile.featureSet.name}" v${profile.featureSet.version}: ${unknown.join(', ')}`,
    );
  }
  for (const name of binned) {
    if (!known.has(name))
      throw new InvalidArgumentError(`binnedFeatures names "${name}", not a feature of the profile`);
  }
  const evaluations: Evaluation[] = [];
  for (const feature of profile.features) {
    if (!Object.hasOwn(window.features, feature.name)) continue;
    const column = window.features[feature.name]!;
    const isCounts = typeof column === 'object' && column !== null && 'counts' in column;
    if (feature.categories !== undefined) {
      if (!isCounts) {
        throw new InvalidArgumentError(
          `feature "${feature.name}" is one-hot; pass { counts } per category, not values`,
        );
      }
      evaluations.push(evaluateCategorical(feature, column, resolved));
    } else if (feature.numeric !== undefined) {
      if (isCounts) {
        throw new InvalidArgumentError(
          `feature "${feature.name}" is a single column; pass its values, not counts`,
        );
      }
      const asBins = binned.has(feature.name) || feature.kind === 'categorical';
      evaluations.push(
        evaluateNumeric(
          feature.name,
          'feature',
          feature.numeric,
          profile.quantileProbabilities,
          column,
          asBins,
          resolved,
          feature.missingRate,
        ),
      );
    }
  }
  if (window.prediction !== undefined) {
    if (profile.prediction === undefined) {
      throw new InvalidArgumentError(
        'the window has predictions but the profile has no prediction distribution; build the profile with predictions',
      );
    }
    evaluations.push(
      evaluateNumeric(
        'prediction',
        'prediction',
        profile.prediction,
        profile.quantileProbabilities,
        window.prediction,
        false,
        resolved,
        null,
      ),
    );
  }

  const tested = evaluations.filter((e) => e.sufficient && e.pValue !== null);
  const adjusted = adjustPValues(
    tested.map((e) => e.pValue!),
    resolved.correction,
  );
  const adjustedBy = new Map(tested.map((e, i) => [e, adjusted[i]!]));
  const results = evaluations.map((e): FeatureDrift => {
    const adjustedPValue = adjustedBy.get(e) ?? null;
    let drifted: FeatureDrift['drifted'] = 'insufficient';
    if (adjustedPValue !== null && e.distance !== null) {
      const significant = adjustedPValue <= resolved.alpha;
      const large = e.distance >= e.threshold;
      drifted =
        resolved.rule === 'test' ? significant : resolved.rule === 'distance' ? large : significant && large;
    }
    const { sufficient: _sufficient, ...rest } = e;
    return { ...rest, adjustedPValue, drifted };
  });
  const features = results.filter((r) => r.target === 'feature');
  const prediction = results.find((r) => r.target === 'prediction');
  const decided = features.filter((r) => r.drifted !== 'insufficient');
  const driftedFeatures = features.filter((r) => r.drifted === true).map((r) => r.name);
  return {
    features,
    ...(prediction === undefined ? {} : { prediction }),
    drifted: results.some((r) => r.drifted === true),
    driftedFeatures,
    insufficientFeatures: features.filter((r) => r.drifted === 'insufficient').map((r) => r.name),
    driftedShare: decided.length === 0 ? 0 : driftedFeatures.length / decided.length,
    options: resolved,
  };
}

/**
 * Splits feature vectors (one per row, in the feature set's column order, as the router records
 * them) into the per-feature columns {@link detectDrift} takes: a feature of one column gives
 * its values, a one-hot feature the counts of its columns, with rows that set none of them
 * (a MISSING feature writes zeros) counted as missing. Empty vectors (requests that failed
 * before the vector was built) are skipped.
 *
 * @throws InvalidArgumentError for a non-empty vector whose length is not the profile's width.
 */
export function driftColumnsFromVectors(
  profile: ReferenceProfile,
  vectors: readonly ArrayLike<number>[],
): Record<string, DriftColumn> {
  const width = profile.features.reduce((sum, f) => sum + f.columns.length, 0);
  const rows = vectors.filter((v) => v.length > 0);
  for (const v of rows) {
    if (v.length !== width) {
      throw new InvalidArgumentError(
        `a feature vector of length ${v.length} does not fit feature set "${profile.featureSet.name}" v${profile.featureSet.version} (${width} columns); select records by feature_set_hash ${profile.featureSet.contentHash}`,
      );
    }
  }
  const columns: Record<string, DriftColumn> = {};
  let first = 0;
  for (const feature of profile.features) {
    const at = first;
    const size = feature.columns.length;
    first += size;
    if (feature.categories === undefined) {
      columns[feature.name] = Float64Array.from(rows, (v) => v[at]!);
      continue;
    }
    const counts = new Array<number>(size).fill(0);
    let missing = 0;
    for (const v of rows) {
      let set = false;
      for (let k = 0; k < size; k++) {
        if (v[at + k] === 1) {
          counts[k]!++;
          set = true;
        }
      }
      if (!set) missing++;
    }
    columns[feature.name] = { counts, missing };
  }
  return columns;
}
