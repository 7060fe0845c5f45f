import { FailedPreconditionError } from '@slipway/errors';
import {
  computeContentHash,
  deepFreeze,
  featureColumns,
  FITTED_FORMAT,
  UNKNOWN_CATEGORY,
  type FittedFeature,
  type FittedFeatureSet,
  type FittedTransform,
} from './fitted.js';
import { applyPlan, numericPlan } from './numeric-ops.js';
import { parseFeatureSetSpec, type FeatureSetSpec, type FeatureSpec, type Transform } from './spec.js';
import { compareStrings, meanStd, modeSorted, quantileSorted, rankedCounts, sortedPresent } from './stats.js';
import { categoryReader, numericReader, resolveNow, type Row, type TimeInput } from './values.js';

/** Options of {@link fit}. */
export interface FitOptions {
  /** Reference time for `age_seconds` features without `since`. */
  readonly now?: TimeInput;
}

/**
 * Fits a feature set on training rows: validates the spec (see `parseFeatureSetSpec`), reads
 * every feature's raw values in one pass, then fits each transform on the values the previous
 * transforms produce, with the same code that `transform` runs. Request-time values are read
 * from the rows' fields of the same name.
 *
 * Deterministic and order-independent: the result, hash included, depends only on the multiset
 * of rows (exact sums, sorted quantiles, ties broken by value).
 *
 * @throws InvalidArgumentError when the spec or a raw value is invalid.
 * @throws FailedPreconditionError when a statistic has no present value to be fitted on.
 */
export function fit(spec: FeatureSetSpec, rows: Iterable<Row>, options: FitOptions = {}): FittedFeatureSet {
  const normalised = parseFeatureSetSpec(spec);
  const now = resolveNow(options.now);
  const columns = normalised.features.map((f) =>
    f.kind === 'numeric'
      ? { kind: 'numeric' as const, read: numericReader(f), values: [] as number[] }
      : { kind: 'categorical' as const, read: categoryReader(f), values: [] as (string | undefined)[] },
  );
  let rowCount = 0;
  for (const row of rows) {
    rowCount++;
    for (const c of columns) {
      if (c.kind === 'numeric') c.values.push(c.read(row, undefined, now));
      else c.values.push(c.read(row, undefined, now));
    }
  }
  const features: FittedFeature[] = normalised.features.map((f, i) => {
    const c = columns[i]!;
    const transforms =
      c.kind === 'numeric' ? fitNumeric(f, Float64Array.from(c.values)) : fitCategorical(f, c.values);
    return { name: f.name, kind: f.kind, columns: featureColumns(f.name, transforms), transforms };
  });
  const body = {
    format: FITTED_FORMAT,
    spec: normalised,
    rowCount,
    features,
    columns: features.flatMap((f) => f.columns),
  } as const;
  return deepFreeze({ ...body, contentHash: computeContentHash(body) });
}

/** −0 would serialise as 0 and then transform differently after a round trip. */
function plusZero(x: number): number {
  return x === 0 ? 0 : x;
}

function noValues(f: FeatureSpec, t: Transform): never {
  throw new FailedPreconditionError(
    `feature "${f.name}": ${t.type} has no present training values to fit on; ` +
      'supply rows with values, or use given statistics (impute "constant", bucketize "boundaries")',
  );
}

/** Statistics must be finite: they are serialised, and an infinite one would poison every value. */
function checkFinite(f: FeatureSpec, stage: FittedTransform): void {
  const numbers = Object.values(stage)
    .flat()
    .filter((v): v is number => typeof v === 'number');
  if (stage.type === 'min-max') numbers.push(stage.max - stage.min);
  if (!numbers.every(Number.isFinite)) {
    throw new FailedPreconditionError(
      `feature "${f.name}": ${stage.type} statistics overflow on these training values; ` +
        'add log1p or clip before it, or check the data for extreme values',
    );
  }
}

function fitNumeric(f: FeatureSpec, values: Float64Array): FittedTransform[] {
  const fitted: FittedTransform[] = [];
  for (const t of f.transforms) {
    let stage: FittedTransform;
    switch (t.type) {
      case 'impute': {
        let value: number;
        if (t.strategy === 'constant') {
          value = t.value as number;
        } else if (t.strategy === 'mean') {
          value = meanStd(values)?.mean ?? noValues(f, t);
        } else {
          const sorted = sortedPresent(values);
          if (sorted.length === 0) noValues(f, t);
          value = t.strategy === 'median' ? quantileSorted(sorted, 0.5) : modeSorted(sorted);
        }
        value = plusZero(value);
        for (let i = 0; i < values.length; i++) if (values[i] !== values[i]) values[i] = value;
        fitted.push({ type: 'impute', value });
        continue;
      }
      case 'standardize': {
        const s = meanStd(values) ?? noValues(f, t);
        stage = { type: 'standardize', mean: plusZero(s.mean), std: plusZero(s.std) };
        break;
      }
      case 'min-max': {
        const sorted = sortedPresent(values);
        if (sorted.length === 0) noValues(f, t);
        stage = { type: 'min-max', min: plusZero(sorted[0]!), max: plusZero(sorted.at(-1)!) };
        break;
      }
      case 'bucketize': {
        if ('boundaries' in t) {
          stage = { type: 'bucketize', boundaries: [...t.boundaries] };
          break;
        }
        const sorted = sortedPresent(values);
        if (sorted.length === 0) noValues(f, t);
        const boundaries: number[] = [];
        for (let k = 1; k < t.quantiles; k++) {
          const q = plusZero(quantileSorted(sorted, k / t.quantiles));
          if (boundaries.length === 0 || q > boundaries.at(-1)!) boundaries.push(q);
        }
        stage = { type: 'bucketize', boundaries };
        break;
      }
      case 'clip':
        stage = {
          type: 'clip',
          ...(t.min === undefined ? {} : { min: t.min }),
          ...(t.max === undefined ? {} : { max: t.max }),
        };
        break;
      case 'log1p':
        stage = { type: 'log1p' };
        break;
      default:
        throw new Error(`unreachable: ${t.type} on a numeric feature passed validation`);
    }
    checkFinite(f, stage);
    fitted.push(stage);
    const plan = numericPlan([stage]);
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      if (x === x) values[i] = applyPlan(plan, x);
    }
  }
  return fitted;
}

function fitCategorical(f: FeatureSpec, values: (string | undefined)[]): FittedTransform[] {
  const fitted: FittedTransform[] = [];
  for (const t of f.transforms) {
    switch (t.type) {
      case 'impute': {
        const value = t.strategy === 'constant' ? (t.value as string) : rankedCounts(values)[0]?.[0];
        if (value === undefined) noValues(f, t);
        for (let i = 0; i < values.length; i++) if (values[i] === undefined) values[i] = value;
        fitted.push({ type: 'impute', value });
        break;
      }
      case 'one-hot': {
        const kept = rankedCounts(values)
          .filter(([c, n]) => c !== UNKNOWN_CATEGORY && n >= (t.minFrequency ?? 1))
          .slice(0, t.topK)
          .map(([c]) => c)
          .sort(compareStrings);
        fitted.push({ type: 'one-hot', categories: kept });
        break;
      }
      case 'hash-bucket':
        fitted.push({ type: 'hash-bucket', buckets: t.buckets, output: t.output ?? 'index' });
        break;
      default:
        throw new Error(`unreachable: ${t.type} on a categorical feature passed validation`);
    }
  }
  return fitted;
}
