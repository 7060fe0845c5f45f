import { InvalidArgumentError } from '@slipway/errors';
import { z } from 'zod';

/**
 * Where a feature's raw value comes from.
 *
 * - `{ field }`: a field of the row.
 * - `{ ratio: [numerator, denominator] }`: two numeric row fields; a zero denominator makes the
 *   value missing (never ±Infinity).
 * - `{ requestTime: field }`: a value the caller supplies at transform time in `requestValues`
 *   (falls back to the row's field of that name, so logged training rows can carry it).
 * - `{ time: { field, part, since? } }`: a timestamp field (epoch milliseconds, a `Date`, or
 *   ISO-8601 with `Z` or an offset) reduced in UTC to `hour` (0–23), `day_of_week`
 *   (Monday = 0 … Sunday = 6) or `age_seconds` (`since − field`, in seconds). `since` is looked up
 *   like a request-time value; without it the transform option `now` is the reference time.
 */
export type FeatureSource =
  | { readonly field: string }
  | { readonly ratio: readonly [string, string] }
  | { readonly requestTime: string }
  | { readonly time: TimeSource };

/** A timestamp reduced to one number; see {@link FeatureSource}. */
export interface TimeSource {
  readonly field: string;
  readonly part: TimePart;
  readonly since?: string;
}

/** The parts a time source can be reduced to (all in UTC). */
export type TimePart = 'hour' | 'day_of_week' | 'age_seconds';

/** Numeric features yield one number; categorical features end in one-hot or hash-bucket. */
export type FeatureKind = 'numeric' | 'categorical';

/**
 * Fill a missing value. Must be the first transform. `constant` takes a number (numeric features)
 * or a string (categorical); `mean` and `median` are numeric only; `mode` works for both (ties go
 * to the smallest value).
 */
export type ImputeTransform =
  | { readonly type: 'impute'; readonly strategy: 'constant'; readonly value: number | string }
  | { readonly type: 'impute'; readonly strategy: 'mean' | 'median' | 'mode' };

/** `(x − mean) / std` with the population std; a constant column (std 0) divides by 1. */
export interface StandardizeTransform {
  readonly type: 'standardize';
}

/** `(x − min) / (max − min)` with fitted bounds; a constant column gives 0. Not clipped. */
export interface MinMaxTransform {
  readonly type: 'min-max';
}

/** Signed log1p: `sign(x)·ln(1 + |x|)`, equal to `ln(1 + x)` for x ≥ 0 and finite below −1. */
export interface Log1pTransform {
  readonly type: 'log1p';
}

/** Clamp to `[min, max]`; either bound may be omitted, not both. */
export interface ClipTransform {
  readonly type: 'clip';
  readonly min?: number;
  readonly max?: number;
}

/**
 * Replace x by its bucket index: the number of boundaries ≤ x (0 … boundaries.length).
 * Boundaries are given (strictly increasing) or fitted as the `quantiles`-quantiles of the
 * training values (linear interpolation, duplicates dropped).
 */
export type BucketizeTransform =
  | { readonly type: 'bucketize'; readonly boundaries: readonly number[] }
  | { readonly type: 'bucketize'; readonly quantiles: number };

/**
 * One column per fitted category plus `<name>=__unknown__` for categories not seen (or not kept)
 * at fit time. Categories are ranked by count (ties by value); `minFrequency` drops those seen
 * fewer times, `topK` keeps the first K; the kept ones are ordered by value. The literal category
 * `__unknown__` always maps to the unknown column.
 */
export interface OneHotTransform {
  readonly type: 'one-hot';
  readonly topK?: number;
  readonly minFrequency?: number;
}

/**
 * `fnv1a32(utf8(value)) mod buckets`. `output: 'index'` (default) gives one column holding the
 * bucket number; `'one-hot'` gives `buckets` indicator columns.
 */
export interface HashBucketTransform {
  readonly type: 'hash-bucket';
  readonly buckets: number;
  readonly output?: 'index' | 'one-hot';
}

/** One step of a feature's transform chain; steps run in order. */
export type Transform =
  | ImputeTransform
  | StandardizeTransform
  | MinMaxTransform
  | Log1pTransform
  | ClipTransform
  | BucketizeTransform
  | OneHotTransform
  | HashBucketTransform;

/** One feature: a source, a kind and a transform chain. */
export interface FeatureSpec {
  /** Unique in the set; letters, digits, `_`, `.`, `-`; starts with a letter. */
  readonly name: string;
  readonly source: FeatureSource;
  readonly kind: FeatureKind;
  readonly transforms: readonly Transform[];
  /** How long an online value stays fresh; enforced by the feature service, not here. */
  readonly ttlSeconds?: number;
}

/** A declarative, versioned feature set. */
export interface FeatureSetSpec {
  readonly name: string;
  /** Positive integer; a changed definition gets a new version. */
  readonly version: number;
  /** Fields that identify the entity a row describes (e.g. `user_id`); not model inputs. */
  readonly entityKeys: readonly string[];
  readonly features: readonly FeatureSpec[];
}

/** Float32 holds every integer up to 2^24 exactly, so a bucket index never rounds. */
export const MAX_HASH_BUCKETS = 2 ** 24;

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const name = z
  .string()
  .max(128)
  .regex(NAME_RE, 'must start with a letter and use only letters, digits, "_", "." or "-"');
const fieldName = z.string().min(1, 'must name a field');
const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const sourceSchema = z
  .strictObject({
    field: fieldName.optional(),
    ratio: z.tuple([fieldName, fieldName]).optional(),
    requestTime: fieldName.optional(),
    time: z
      .strictObject({
        field: fieldName,
        part: z.enum(['hour', 'day_of_week', 'age_seconds']),
        since: fieldName.optional(),
      })
      .refine((t) => t.since === undefined || t.part === 'age_seconds', {
        message: '"since" only applies to part "age_seconds"',
        path: ['since'],
      })
      .optional(),
  })
  .refine((s) => Object.keys(s).length === 1, {
    message: 'must have exactly one of "field", "ratio", "requestTime" or "time"',
  });

const imputeSchema = z
  .strictObject({
    type: z.literal('impute'),
    strategy: z.enum(['constant', 'mean', 'median', 'mode']),
    value: z.union([finite, z.string()]).optional(),
  })
  .refine((t) => (t.strategy === 'constant') === (t.value !== undefined), {
    message: 'strategy "constant" needs "value"; other strategies take none',
    path: ['value'],
  });

const clipSchema = z
  .strictObject({ type: z.literal('clip'), min: finite.optional(), max: finite.optional() })
  .refine((t) => t.min !== undefined || t.max !== undefined, { message: 'clip needs "min", "max" or both' })
  .refine((t) => t.min === undefined || t.max === undefined || t.min <= t.max, {
    message: '"min" must not exceed "max"',
    path: ['min'],
  });

const bucketizeSchema = z
  .strictObject({
    type: z.literal('bucketize'),
    boundaries: z.array(finite).min(1).optional(),
    quantiles: z.int().min(2).max(1000).optional(),
  })
  .refine((t) => (t.boundaries === undefined) !== (t.quantiles === undefined), {
    message: 'bucketize needs exactly one of "boundaries" or "quantiles"',
  })
  .refine((t) => t.boundaries === undefined || t.boundaries.every((b, i, a) => i === 0 || a[i - 1]! < b), {
    message: 'must be strictly increasing',
    path: ['boundaries'],
  });

const transformSchema = z.discriminatedUnion('type', [
  imputeSchema,
  z.strictObject({ type: z.literal('standardize') }),
  z.strictObject({ type: z.literal('min-max') }),
  z.strictObject({ type: z.literal('log1p') }),
  clipSchema,
  bucketizeSchema,
  z.strictObject({
    type: z.literal('one-hot'),
    topK: z.int().min(1).optional(),
    minFrequency: z.int().min(1).optional(),
  }),
  z.strictObject({
    type: z.literal('hash-bucket'),
    buckets: z.int().min(1).max(MAX_HASH_BUCKETS),
    output: z.enum(['index', 'one-hot']).default('index'),
  }),
]);

const featureSchema = z.strictObject({
  name,
  source: sourceSchema,
  kind: z.enum(['numeric', 'categorical']),
  transforms: z.array(transformSchema),
  ttlSeconds: z.int().min(1).optional(),
});

/**
 * zod schema of a {@link FeatureSetSpec} arriving as JSON: unknown keys are rejected, and the
 * cross-field rules (kinds vs transforms, impute first, one terminal encoding for categoricals,
 * unique names and columns) are checked with paths that name the feature.
 */
export const featureSetSpecSchema = z
  .strictObject({
    name,
    version: z
      .int()
      .min(1)
      .max(2 ** 31 - 1),
    entityKeys: z.array(fieldName).min(1),
    features: z.array(featureSchema).min(1),
  })
  .superRefine((spec, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (new Set(spec.entityKeys).size !== spec.entityKeys.length) {
      issue(['entityKeys'], 'entity keys must be unique');
    }
    const names = new Set<string>();
    const columns = new Map<string, string>();
    spec.features.forEach((f, i) => {
      const at = ['features', i];
      const label = `feature "${f.name}"`;
      if (names.has(f.name))
        issue([...at, 'name'], `${label} is defined twice; feature names must be unique`);
      names.add(f.name);
      f.transforms.forEach((t, j) => {
        const tat = [...at, 'transforms', j];
        if (t.type === 'impute') {
          if (j !== 0) issue(tat, `${label}: impute must be the first transform`);
          if (f.kind === 'categorical' && (t.strategy === 'mean' || t.strategy === 'median')) {
            issue(
              [...tat, 'strategy'],
              `${label}: impute "${t.strategy}" needs kind "numeric"; use "mode" or "constant"`,
            );
          }
          if (t.strategy === 'constant' && typeof t.value !== (f.kind === 'numeric' ? 'number' : 'string')) {
            issue(
              [...tat, 'value'],
              `${label}: a ${f.kind} feature imputes a ${f.kind === 'numeric' ? 'number' : 'string'}`,
            );
          }
          return;
        }
        const terminal = t.type === 'one-hot' || t.type === 'hash-bucket';
        if (f.kind === 'numeric' && terminal) {
          issue(tat, `${label}: ${t.type} needs kind "categorical"`);
        } else if (f.kind === 'categorical' && !terminal) {
          issue(
            tat,
            `${label}: ${t.type} needs kind "numeric"; a categorical feature only takes impute then one-hot or hash-bucket`,
          );
        } else if (terminal && j !== f.transforms.length - 1) {
          issue(tat, `${label}: ${t.type} must be the last transform`);
        }
      });
      if (f.kind === 'categorical') {
        const last = f.transforms.at(-1);
        if (last?.type !== 'one-hot' && last?.type !== 'hash-bucket') {
          issue(
            [...at, 'transforms'],
            `${label}: a categorical feature must end with one-hot or hash-bucket`,
          );
        }
      }
      // Multi-column names contain "=", which feature names cannot, so only these can collide.
      for (const column of fixedColumns(f)) {
        const owner = columns.get(column);
        if (owner !== undefined && owner !== f.name) {
          issue([...at, 'name'], `${label}: column "${column}" collides with feature "${owner}"; rename one`);
        }
        columns.set(column, f.name);
      }
    });
  });

/** Column names of a feature that do not depend on fitted categories. */
function fixedColumns(f: { name: string; transforms: readonly { type: string }[] }): string[] {
  const last = f.transforms.at(-1);
  if (
    last?.type === 'one-hot' ||
    (last?.type === 'hash-bucket' && (last as { output?: string }).output === 'one-hot')
  ) {
    return [];
  }
  return [numericColumnName(f.name, f.transforms)];
}

/**
 * The column of a single-column feature: the name alone, or `<name>__<last transform>` when the
 * chain changes the value (`amount__log1p`, `amount__bucket`, `merchant__hash`).
 */
export function numericColumnName(featureName: string, transforms: readonly { type: string }[]): string {
  const last = transforms.at(-1);
  if (last === undefined || last.type === 'impute') return featureName;
  const suffix = last.type === 'bucketize' ? 'bucket' : last.type === 'hash-bucket' ? 'hash' : last.type;
  return `${featureName}__${suffix}`;
}

/** Formats zod issues as `path: message` lines, so each problem names its field. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const path = i.path
        .map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? String(p) : `.${String(p)}`))
        .join('');
      return `${path === '' ? '(root)' : path}: ${i.message}`;
    })
    .join('; ');
}

/**
 * Validates and normalises a spec (defaults filled in, so equivalent specs hash alike).
 *
 * @throws InvalidArgumentError listing every problem with its path, e.g.
 *   `features[1].transforms[0].buckets: Too small: expected number to be >=1`.
 */
export function parseFeatureSetSpec(input: unknown): FeatureSetSpec {
  const result = featureSetSpecSchema.safeParse(input);
  if (!result.success) {
    throw new InvalidArgumentError(`feature set spec is invalid: ${formatIssues(result.error.issues)}`);
  }
  return result.data as FeatureSetSpec;
}
