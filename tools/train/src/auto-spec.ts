import { InvalidArgumentError } from '@slipway/errors';
import { parseFeatureSetSpec, type FeatureSetSpec, type FeatureSpec, type Row } from '@slipway/features';

/** Options of {@link inferFeatureSetSpec}. */
export interface AutoSpecOptions {
  /** Feature-set name; made spec-safe (letters, digits, `_`, `.`, `-`; starts with a letter). */
  readonly name: string;
  readonly version?: number;
  /** Fields that are never inputs: the target, the time column, identifiers, leaks. */
  readonly exclude: readonly string[];
  /** Fields to one-hot even when every value is numeric. */
  readonly categorical?: readonly string[];
  /** Entity key fields recorded in the spec. Default `['row_number']` (CSV rows have no key). */
  readonly entityKeys?: readonly string[];
  /** One-hot keeps categories seen at least this often in training; rarer ones are unknown. Default 5. */
  readonly minFrequency?: number;
}

/** Values that count as missing when deciding whether a column is numeric (as libs/features does). */
function isBlank(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

function isNumeric(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value === 'boolean') return true;
  if (typeof value !== 'string') return false;
  return Number.isFinite(Number(value.trim()));
}

const MISSING_MARKERS = new Set(['na', 'nan', 'null', 'none', '?']);

/** A spec-safe feature name for a raw field (`savings_account/bonds` → `savings_account_bonds`). */
export function featureNameOf(field: string): string {
  const cleaned = field.replace(/[^A-Za-z0-9_.-]+/g, '_');
  return /^[A-Za-z]/.test(cleaned) ? cleaned.slice(0, 128) : `f_${cleaned}`.slice(0, 128);
}

/**
 * An automatic feature-set spec for tabular rows: every field not excluded becomes one feature,
 * in field order. A field whose present values are all numbers (blank and `NA`-style markers
 * aside) gets impute median → standardize; any other field (or one named in `categorical`) gets
 * a one-hot with an explicit unknown column (missing values write all zeros). Fields with no
 * present value in `rows` are left out, since nothing could be fitted on them.
 *
 * @param rows the training rows only: the decision must not look at the holdout.
 */
export function inferFeatureSetSpec(
  rows: readonly Row[],
  fields: readonly string[],
  options: AutoSpecOptions,
): { spec: FeatureSetSpec; skipped: string[] } {
  const exclude = new Set(options.exclude);
  const categorical = new Set(options.categorical ?? []);
  for (const f of [...categorical, ...exclude]) {
    if (!fields.includes(f)) {
      throw new InvalidArgumentError(`no field "${f}" to use or drop; fields are ${fields.join(', ')}`);
    }
  }
  const features: FeatureSpec[] = [];
  const skipped: string[] = [];
  const names = new Set<string>();
  for (const field of fields) {
    if (exclude.has(field)) continue;
    let present = 0;
    let numeric = true;
    for (const row of rows) {
      const v = row[field];
      if (isBlank(v)) continue;
      if (typeof v === 'string' && MISSING_MARKERS.has(v.trim().toLowerCase())) continue;
      present++;
      if (numeric && !isNumeric(v)) numeric = false;
    }
    if (present === 0) {
      skipped.push(field);
      continue;
    }
    let name = featureNameOf(field);
    for (let k = 2; names.has(name); k++) name = `${featureNameOf(field)}_${k}`;
    names.add(name);
    features.push(
      numeric && !categorical.has(field)
        ? {
            name,
            source: { field },
            kind: 'numeric',
            transforms: [{ type: 'impute', strategy: 'median' }, { type: 'standardize' }],
          }
        : {
            name,
            source: { field },
            kind: 'categorical',
            transforms: [{ type: 'one-hot', minFrequency: options.minFrequency ?? 5 }],
          },
    );
  }
  if (features.length === 0) {
    throw new InvalidArgumentError('no input fields left after --drop and the target; keep at least one');
  }
  const spec = parseFeatureSetSpec({
    name: featureNameOf(options.name),
    version: options.version ?? 1,
    entityKeys: options.entityKeys ?? ['row_number'],
    features,
  });
  return { spec, skipped };
}
