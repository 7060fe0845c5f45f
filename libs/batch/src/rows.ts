import type { features } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import type { FittedFeatureSet } from '@slipway/features';
import type { InputItem } from './input.js';

/** How a request-time field's value is read from a row. */
type FieldKind = 'number' | 'text' | 'time';

/**
 * What a row must hold for a feature set, resolved once per run: the column of every entity key,
 * the request-time fields (the values the caller supplies online) and how each is typed, and the
 * column of the row id.
 */
export interface RowPlan {
  /** Entity key → the input column holding it. */
  readonly entityColumns: ReadonlyMap<string, string>;
  readonly requestFields: readonly { readonly name: string; readonly kind: FieldKind }[];
  readonly idColumn: string;
}

/** A row ready for the feature service. */
export interface ScoringRow {
  readonly row: number;
  /** The input's id value, or the row number when it has none. */
  readonly id: string;
  readonly entityKeys: Record<string, string>;
  /** Request-time values; a missing or empty value is left out (the feature set imputes it). */
  readonly requestValues: Record<string, features.RawValue>;
}

/** A row that cannot be scored, and why. */
export interface RejectedRow {
  readonly row: number;
  readonly reason: string;
  readonly raw?: unknown;
}

/**
 * Where entity keys are in the input: key → column, or just the column when the feature set has
 * one entity key. Keys left out are read from the column named like the key.
 */
export type EntityColumns = Readonly<Record<string, string>> | string;

/**
 * The plan for `fitted`. Request-time fields are the `requestTime` sources and the `since`
 * fields of the set: numeric features need numbers, categorical features take text, `since`
 * takes epoch milliseconds or ISO-8601.
 */
export function createRowPlan(
  fitted: FittedFeatureSet,
  options: { entityColumns?: EntityColumns; idColumn?: string } = {},
): RowPlan {
  const keys = fitted.spec.entityKeys;
  const label = `feature set "${fitted.spec.name}" v${fitted.spec.version}`;
  const named = keys.map((k) => `"${k}"`).join(', ');
  let mapping: Readonly<Record<string, string>> = {};
  if (typeof options.entityColumns === 'string') {
    if (keys.length !== 1) {
      throw new InvalidArgumentError(
        `${label} is keyed by ${named}: name each key's column, e.g. --entity-key ${keys[0]}=<column>`,
      );
    }
    mapping = { [keys[0]!]: options.entityColumns };
  } else if (options.entityColumns) {
    mapping = options.entityColumns;
  }
  for (const key of Object.keys(mapping)) {
    if (!keys.includes(key)) {
      throw new InvalidArgumentError(`--entity-key names "${key}", but ${label} is keyed by ${named}`);
    }
  }
  const entityColumns = new Map(keys.map((key) => [key, mapping[key] ?? key]));
  const kinds = new Map<string, FieldKind>();
  for (const feature of fitted.spec.features) {
    const source = feature.source;
    if ('requestTime' in source) {
      // A field read both ways is checked as a number; categorical transforms accept numbers.
      const kind: FieldKind = feature.kind === 'numeric' ? 'number' : 'text';
      if (kinds.get(source.requestTime) !== 'number') kinds.set(source.requestTime, kind);
    } else if ('time' in source && source.time.since !== undefined) {
      kinds.set(source.time.since, 'time');
    }
  }
  return {
    entityColumns,
    requestFields: [...kinds].map(([name, kind]) => ({ name, kind })),
    idColumn: options.idColumn ?? 'id',
  };
}

/** Decimal notation only: `31.5`, `-2`, `1e-3`; not `0x10`, `Infinity` or `1,5`. */
const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function numberValue(name: string, value: unknown): features.RawValue | undefined | string {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') {
    return Number.isFinite(value)
      ? { kind: { $case: 'number', number: value } }
      : `field "${name}": ${value} is not a finite number`;
  }
  if (typeof value === 'string' && DECIMAL.test(value)) {
    const n = Number(value);
    if (Number.isFinite(n)) return { kind: { $case: 'number', number: n } };
  }
  return `field "${name}": ${JSON.stringify(value)} is not a number`;
}

function textValue(name: string, value: unknown): features.RawValue | undefined | string {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return { kind: { $case: 'text', text: value } };
  if (typeof value === 'number' && Number.isFinite(value)) {
    return { kind: { $case: 'text', text: String(value) } };
  }
  if (typeof value === 'boolean') return { kind: { $case: 'text', text: String(value) } };
  return `field "${name}": ${JSON.stringify(value)} is not a text value`;
}

function timeValue(name: string, value: unknown): features.RawValue | undefined | string {
  const asNumber = numberValue(name, value);
  if (typeof asNumber !== 'string') return asNumber;
  if (typeof value === 'string' && Number.isFinite(Date.parse(value))) {
    return { kind: { $case: 'text', text: value } };
  }
  return `field "${name}": ${JSON.stringify(value)} is neither epoch milliseconds nor an ISO-8601 time`;
}

const READERS = { number: numberValue, text: textValue, time: timeValue } as const;

function keyValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Reads one input item into a row to score, or the reason it cannot be scored. */
export function buildRow(plan: RowPlan, item: InputItem): ScoringRow | RejectedRow {
  if (!item.ok) {
    return item.raw === undefined
      ? { row: item.row, reason: item.reason }
      : { row: item.row, reason: item.reason, raw: item.raw };
  }
  const entityKeys: Record<string, string> = {};
  for (const [key, column] of plan.entityColumns) {
    const raw = item.value(column);
    const value = keyValue(raw);
    if (value === undefined) {
      const what = column === key ? `entity key "${key}"` : `entity key "${key}" (column "${column}")`;
      return {
        row: item.row,
        reason:
          raw === undefined || raw === null || raw === ''
            ? `${what} is missing`
            : `${what} is ${JSON.stringify(raw)}, not a string or number`,
      };
    }
    entityKeys[key] = value;
  }
  const requestValues: Record<string, features.RawValue> = {};
  for (const field of plan.requestFields) {
    const value = READERS[field.kind](field.name, item.value(field.name));
    if (typeof value === 'string') return { row: item.row, reason: value };
    if (value !== undefined) requestValues[field.name] = value;
  }
  const id = keyValue(item.value(plan.idColumn)) ?? String(item.row);
  return { row: item.row, id, entityKeys, requestValues };
}

/** True for a row to score, false for a rejected one. */
export function isScoring(row: ScoringRow | RejectedRow): row is ScoringRow {
  return 'entityKeys' in row;
}

/**
 * Problems of a CSV header for a plan: a missing entity key column fails the run (no row could be
 * scored); a missing request-time column only warns (every row sends it as missing).
 */
export function checkColumns(
  plan: RowPlan,
  columns: readonly string[],
  file: string,
): { error?: string; warnings: string[] } {
  const have = new Set(columns);
  const missingKeys = [...plan.entityColumns].filter(([, column]) => !have.has(column));
  const warnings = plan.requestFields
    .filter((f) => !have.has(f.name))
    .map(
      (f) =>
        `input "${file}" has no column "${f.name}" (a request-time field of the feature set): every row sends it as missing`,
    );
  if (missingKeys.length === 0) return { warnings };
  const [key, column] = missingKeys[0]!;
  return {
    warnings,
    error:
      `input "${file}" has no column "${column}" for entity key "${key}" (columns: ${columns.join(', ')}); ` +
      `name the column with --entity-key ${key}=<column>`,
  };
}
