import { FailedPreconditionError, InvalidArgumentError } from '@slipway/errors';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { FeatureStatus, type TransformResult } from './compile.js';
import type { FittedFeatureSet } from './fitted.js';
import { formatIssues, type FeatureKind } from './spec.js';
import { binIndex, meanStd, quantileSorted, sortedPresent } from './stats.js';

/** Version of the reference-profile format written by {@link encodeProfile}. */
export const PROFILE_VERSION = 1;

/** Probabilities of the stored quantiles: 0, 0.1, …, 1 (min, deciles, max). */
export const PROFILE_QUANTILES: readonly number[] = Array.from({ length: 11 }, (_, k) => k / 10);

/**
 * Counts over fixed bins: bin 0 is (−∞, edges[0]), bin i is [edges[i−1], edges[i]), the last is
 * [edges[last], +∞), so `counts.length === edges.length + 1`. Edges are the distinct training
 * deciles, so each bin holds about a tenth of the training data and PSI at serving compares
 * like with like. Use `binIndex(edges, x)` to bin serving values the same way.
 */
export interface Histogram {
  readonly edges: readonly number[];
  readonly counts: readonly number[];
}

/** Distribution of one numeric column (or of the predictions), over non-missing rows. */
export interface NumericProfile {
  readonly count: number;
  readonly mean: number | null;
  readonly std: number | null;
  /** At {@link PROFILE_QUANTILES}; empty when count is 0. */
  readonly quantiles: readonly number[];
  readonly histogram: Histogram;
}

/** How often a one-hot (or hash one-hot) column is set, over non-missing rows. */
export interface CategoryFrequency {
  readonly category: string;
  readonly column: string;
  readonly count: number;
  readonly frequency: number | null;
}

/** The training distribution of one feature. */
export interface FeatureProfile {
  readonly name: string;
  readonly kind: FeatureKind;
  readonly columns: readonly string[];
  /** Share of rows with status MISSING / DEFAULTED; null when no statuses were given. */
  readonly missingRate: number | null;
  readonly defaultedRate: number | null;
  /** Single-column features (numeric, hash index). */
  readonly numeric?: NumericProfile;
  /** Multi-column features (one-hot, hash one-hot), per column in column order. */
  readonly categories?: readonly CategoryFrequency[];
}

/** Reference profile of a training matrix, stored with a model version for drift detection. */
export interface ReferenceProfile {
  readonly version: typeof PROFILE_VERSION;
  readonly featureSet: { readonly name: string; readonly version: number; readonly contentHash: string };
  readonly rowCount: number;
  readonly quantileProbabilities: readonly number[];
  readonly features: readonly FeatureProfile[];
  readonly prediction?: NumericProfile;
}

function numericProfile(values: ArrayLike<number>): NumericProfile {
  const sorted = sortedPresent(values);
  const stats = meanStd(sorted);
  if (stats === undefined)
    return { count: 0, mean: null, std: null, quantiles: [], histogram: { edges: [], counts: [0] } };
  const quantiles = PROFILE_QUANTILES.map((p) => quantileSorted(sorted, p));
  const edges: number[] = [];
  for (const q of quantiles.slice(1, -1)) if (edges.length === 0 || q > edges.at(-1)!) edges.push(q);
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const x of sorted) counts[binIndex(edges, x)]!++;
  return { count: sorted.length, mean: stats.mean, std: stats.std, quantiles, histogram: { edges, counts } };
}

/**
 * Builds the reference profile of a training matrix. Pass the {@link TransformResult} to get
 * missing rates and to leave MISSING rows (which hold placeholder zeros) out of the
 * distributions; a bare matrix counts every row as present. Predictions, if given, are one per row.
 *
 * @throws InvalidArgumentError when the matrix or the predictions do not fit the feature set.
 */
export function buildProfile(
  fitted: FittedFeatureSet,
  matrix: Float32Array | TransformResult,
  predictions?: ArrayLike<number>,
): ReferenceProfile {
  const data = matrix instanceof Float32Array ? matrix : matrix.matrix;
  const statuses = matrix instanceof Float32Array ? undefined : matrix.statuses;
  const width = fitted.columns.length;
  const nFeatures = fitted.features.length;
  const rows = data.length / width;
  const label = `feature set "${fitted.spec.name}" v${fitted.spec.version}`;
  if (!Number.isInteger(rows)) {
    throw new InvalidArgumentError(
      `${label}: matrix of ${data.length} floats is not rows × ${width} columns`,
    );
  }
  if (statuses !== undefined && statuses.length !== rows * nFeatures) {
    throw new InvalidArgumentError(
      `${label}: statuses hold ${statuses.length} entries for ${rows} rows × ${nFeatures} features`,
    );
  }
  if (predictions !== undefined && predictions.length !== rows) {
    throw new InvalidArgumentError(
      `${label}: ${predictions.length} predictions for ${rows} rows; pass one per row`,
    );
  }
  let column = 0;
  const features = fitted.features.map((f, i): FeatureProfile => {
    const first = column;
    column += f.columns.length;
    let missing = 0;
    let defaulted = 0;
    const present: number[] = [];
    for (let r = 0; r < rows; r++) {
      const status = statuses?.[r * nFeatures + i] ?? FeatureStatus.PRESENT;
      if (status === FeatureStatus.MISSING) missing++;
      else {
        if (status === FeatureStatus.DEFAULTED) defaulted++;
        present.push(r);
      }
    }
    const base = {
      name: f.name,
      kind: f.kind,
      columns: f.columns,
      missingRate: statuses === undefined || rows === 0 ? null : missing / rows,
      defaultedRate: statuses === undefined || rows === 0 ? null : defaulted / rows,
    };
    if (f.columns.length === 1) {
      return { ...base, numeric: numericProfile(present.map((r) => data[r * width + first]!)) };
    }
    const categories = f.columns.map((name, k) => {
      let count = 0;
      for (const r of present) if (data[r * width + first + k] === 1) count++;
      return {
        category: name.slice(name.indexOf('=') + 1),
        column: name,
        count,
        frequency: present.length === 0 ? null : count / present.length,
      };
    });
    return { ...base, categories };
  });
  return {
    version: PROFILE_VERSION,
    featureSet: { name: fitted.spec.name, version: fitted.spec.version, contentHash: fitted.contentHash },
    rowCount: rows,
    quantileProbabilities: PROFILE_QUANTILES,
    features,
    ...(predictions === undefined ? {} : { prediction: numericProfile(predictions) }),
  };
}

const nullableNumber = z.number().nullable();
const numericProfileSchema = z.strictObject({
  count: z.int().min(0),
  mean: nullableNumber,
  std: nullableNumber,
  quantiles: z.array(z.number()),
  histogram: z.strictObject({ edges: z.array(z.number()), counts: z.array(z.int().min(0)) }),
});

/** zod schema of a decoded {@link ReferenceProfile}. */
export const referenceProfileSchema = z.strictObject({
  version: z.literal(PROFILE_VERSION),
  featureSet: z.strictObject({ name: z.string(), version: z.int(), contentHash: z.string() }),
  rowCount: z.int().min(0),
  quantileProbabilities: z.array(z.number()),
  features: z.array(
    z.strictObject({
      name: z.string(),
      kind: z.enum(['numeric', 'categorical']),
      columns: z.array(z.string()),
      missingRate: nullableNumber,
      defaultedRate: nullableNumber,
      numeric: numericProfileSchema.optional(),
      categories: z
        .array(
          z.strictObject({
            category: z.string(),
            column: z.string(),
            count: z.int().min(0),
            frequency: nullableNumber,
          }),
        )
        .optional(),
    }),
  ),
  prediction: numericProfileSchema.optional(),
});

/** Encodes a profile as UTF-8 canonical JSON (the bytes stored with a model version). */
export function encodeProfile(profile: ReferenceProfile): Uint8Array {
  return new TextEncoder().encode(canonicalJson(profile));
}

/**
 * Decodes and validates profile bytes.
 *
 * @throws FailedPreconditionError when the profile has a version this build does not read.
 * @throws InvalidArgumentError when the bytes are not a valid profile.
 */
export function decodeProfile(bytes: Uint8Array | string): ReferenceProfile {
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new InvalidArgumentError('reference profile is not valid JSON; pass the output of encodeProfile', {
      cause,
    });
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version !== PROFILE_VERSION) {
    throw new FailedPreconditionError(
      `reference profile has version ${version}; this build reads version ${PROFILE_VERSION} — upgrade @slipway/features or rebuild the profile`,
    );
  }
  const result = referenceProfileSchema.safeParse(json);
  if (!result.success) {
    throw new InvalidArgumentError(`reference profile is invalid: ${formatIssues(result.error.issues)}`);
  }
  return result.data as ReferenceProfile;
}
