import { FailedPreconditionError, InvalidArgumentError } from '@slipway/errors';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import {
  featureSetSpecSchema,
  formatIssues,
  numericColumnName,
  type FeatureKind,
  type FeatureSetSpec,
} from './spec.js';

/** Format tag of a serialised fitted feature set. */
export const FITTED_FORMAT = 'slipway.features.fitted/v1';

/** The one-hot column for categories not kept at fit time: `<name>=__unknown__`. */
export const UNKNOWN_CATEGORY = '__unknown__';

/** A transform with its fitted statistics (spec parameters copied so a plan needs nothing else). */
export type FittedTransform =
  | { readonly type: 'impute'; readonly value: number | string }
  | { readonly type: 'standardize'; readonly mean: number; readonly std: number }
  | { readonly type: 'min-max'; readonly min: number; readonly max: number }
  | { readonly type: 'log1p' }
  | { readonly type: 'clip'; readonly min?: number; readonly max?: number }
  | { readonly type: 'bucketize'; readonly boundaries: readonly number[] }
  | { readonly type: 'one-hot'; readonly categories: readonly string[] }
  | { readonly type: 'hash-bucket'; readonly buckets: number; readonly output: 'index' | 'one-hot' };

/** A feature's fitted chain and the columns it writes, in order. */
export interface FittedFeature {
  readonly name: string;
  readonly kind: FeatureKind;
  readonly columns: readonly string[];
  readonly transforms: readonly FittedTransform[];
}

/**
 * A spec with its fitted statistics. Immutable (frozen). `contentHash` is the lowercase hex
 * sha256 of {@link canonicalJson} of this object without `contentHash`, so it covers the format
 * tag, the normalised spec, `rowCount`, every statistic and the column list.
 */
export interface FittedFeatureSet {
  readonly format: typeof FITTED_FORMAT;
  readonly spec: FeatureSetSpec;
  /** Number of training rows the statistics were fitted on. */
  readonly rowCount: number;
  /** Parallel to `spec.features`. */
  readonly features: readonly FittedFeature[];
  /** Every output column, in matrix order (features in spec order, each feature's columns in order). */
  readonly columns: readonly string[];
  readonly contentHash: string;
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const fittedTransformSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('impute'), value: z.union([finite, z.string()]) }),
  z.strictObject({
    type: z.literal('standardize'),
    mean: finite,
    std: finite.refine((s) => s >= 0, 'must be ≥ 0'),
  }),
  z.strictObject({ type: z.literal('min-max'), min: finite, max: finite }),
  z.strictObject({ type: z.literal('log1p') }),
  z.strictObject({ type: z.literal('clip'), min: finite.optional(), max: finite.optional() }),
  z.strictObject({ type: z.literal('bucketize'), boundaries: z.array(finite).min(1) }),
  z.strictObject({ type: z.literal('one-hot'), categories: z.array(z.string().min(1)) }),
  z.strictObject({
    type: z.literal('hash-bucket'),
    buckets: z.int().min(1),
    output: z.enum(['index', 'one-hot']),
  }),
]);

/** zod schema of a serialised {@link FittedFeatureSet} (structure only; see {@link parseFitted}). */
export const fittedFeatureSetSchema = z.strictObject({
  format: z.literal(FITTED_FORMAT),
  spec: featureSetSpecSchema,
  rowCount: z.int().min(0),
  features: z.array(
    z.strictObject({
      name: z.string(),
      kind: z.enum(['numeric', 'categorical']),
      columns: z.array(z.string()),
      transforms: z.array(fittedTransformSchema),
    }),
  ),
  columns: z.array(z.string()),
  contentHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
});

/** The columns a fitted feature writes; see `numericColumnName` for single-column features. */
export function featureColumns(name: string, transforms: readonly FittedTransform[]): string[] {
  const last = transforms.at(-1);
  if (last?.type === 'one-hot') {
    return [...last.categories.map((c) => `${name}=${c}`), `${name}=${UNKNOWN_CATEGORY}`];
  }
  if (last?.type === 'hash-bucket' && last.output === 'one-hot') {
    return Array.from({ length: last.buckets }, (_, i) => `${name}__hash=${i}`);
  }
  return [numericColumnName(name, transforms)];
}

/** The content hash of a fitted set (its `contentHash` field is ignored). */
export function computeContentHash(fitted: Omit<FittedFeatureSet, 'contentHash'>): string {
  return sha256Hex(canonicalJson({ ...fitted, contentHash: undefined }));
}

/** Freezes a value and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Serialises a fitted set as canonical JSON (see {@link canonicalJson}); parse with {@link parseFitted}. */
export function serializeFitted(fitted: FittedFeatureSet): string {
  return canonicalJson(fitted);
}

/**
 * Parses and checks a serialised fitted set: structure and spec rules (zod), then the content
 * hash, then that statistics, columns and spec agree.
 *
 * @throws InvalidArgumentError when the text is not JSON or not a fitted feature set.
 * @throws FailedPreconditionError when the content hash does not match the content.
 */
export function parseFitted(text: string | Uint8Array): FittedFeatureSet {
  let json: unknown;
  try {
    json = JSON.parse(typeof text === 'string' ? text : new TextDecoder().decode(text));
  } catch (cause) {
    throw new InvalidArgumentError(
      'fitted feature set is not valid JSON; pass the output of serializeFitted',
      {
        cause,
      },
    );
  }
  const result = fittedFeatureSetSchema.safeParse(json);
  if (!result.success) {
    throw new InvalidArgumentError(`fitted feature set is invalid: ${formatIssues(result.error.issues)}`);
  }
  const fitted = result.data as FittedFeatureSet;
  const label = `fitted feature set "${fitted.spec.name}" v${fitted.spec.version}`;
  const actual = computeContentHash(fitted);
  if (actual !== fitted.contentHash) {
    throw new FailedPreconditionError(
      `${label}: content hash ${fitted.contentHash} does not match its content (${actual}); ` +
        'the file was modified after fitting — refit or restore the original',
    );
  }
  checkConsistent(fitted, label);
  return deepFreeze(fitted);
}

function checkConsistent(fitted: FittedFeatureSet, label: string): void {
  const fail = (why: string) => {
    throw new FailedPreconditionError(`${label} is inconsistent: ${why}; refit it with fit()`);
  };
  const specs = fitted.spec.features;
  if (fitted.features.length !== specs.length) fail("statistics do not match the spec's features");
  const columns: string[] = [];
  fitted.features.forEach((f, i) => {
    const s = specs[i]!;
    if (f.name !== s.name || f.kind !== s.kind || f.transforms.length !== s.transforms.length) {
      fail(`statistics of feature "${f.name}" do not match the spec`);
    }
    f.transforms.forEach((t, j) => {
      if (t.type !== s.transforms[j]!.type)
        fail(`feature "${f.name}" transform ${j} is ${t.type}, spec says ${s.transforms[j]!.type}`);
    });
    const expected = featureColumns(f.name, f.transforms);
    if (canonicalJson(expected) !== canonicalJson(f.columns))
      fail(`columns of feature "${f.name}" do not match`);
    columns.push(...expected);
  });
  if (canonicalJson(columns) !== canonicalJson(fitted.columns))
    fail('the column list does not match the features');
}
