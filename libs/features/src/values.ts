import { InvalidArgumentError } from '@slipway/errors';
import type { FeatureSource, FeatureSpec } from './spec.js';

/** A raw input row: field name → value. */
export type Row = Readonly<Record<string, unknown>>;

/** A point in time: epoch milliseconds, a `Date`, or ISO-8601 with `Z` or an offset. */
export type TimeInput = number | string | Date;

/**
 * Reads a feature's raw value from a row and the caller's request values. Numeric readers
 * return NaN for missing; categorical readers return undefined.
 */
export type NumericReader = (row: Row, request: Row | undefined, now: number) => number;
/** See {@link NumericReader}. */
export type CategoryReader = (row: Row, request: Row | undefined, now: number) => string | undefined;

const ISO_RE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;
const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

function describe(raw: unknown): string {
  return Array.isArray(raw) ? 'an array' : raw instanceof Date ? 'a Date' : `a ${typeof raw}`;
}

/**
 * A raw value as a number; NaN when missing. Missing: null, undefined, NaN, ±Infinity, a blank
 * string, or a string that is not a number (CSV markers such as "NA" or "?").
 */
export function toNumber(raw: unknown, feature: string, field: string): number {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : NaN;
  if (raw === null || raw === undefined) return NaN;
  if (typeof raw === 'string') {
    const t = raw.trim();
    if (t === '') return NaN;
    const n = Number(t);
    return Number.isFinite(n) ? n : NaN;
  }
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (typeof raw === 'bigint') return Number(raw);
  throw new InvalidArgumentError(
    `feature "${feature}": field "${field}" holds ${describe(raw)}; pass a number, a numeric string, a boolean or null`,
  );
}

/**
 * A raw value as a category; undefined when missing (null, undefined, '' or a non-finite
 * number). Numbers become their shortest round-trip string (`7`, `0.5`), booleans `true`/`false`.
 */
export function toCategory(raw: unknown, feature: string, field: string): string | undefined {
  if (typeof raw === 'string') return raw === '' ? undefined : raw;
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw === 'number') return Number.isFinite(raw) ? String(raw) : undefined;
  if (typeof raw === 'boolean' || typeof raw === 'bigint') return String(raw);
  throw new InvalidArgumentError(
    `feature "${feature}": field "${field}" holds ${describe(raw)}; pass a string, a number, a boolean or null`,
  );
}

/**
 * A raw timestamp as epoch milliseconds; NaN when missing. Strings must be ISO-8601 with a zone
 * (or a bare date, which is UTC midnight): a zone-less timestamp would depend on the host's
 * time zone, which would break bit-identical output between machines.
 */
export function toEpochMs(raw: unknown, feature: string, field: string): number {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : NaN;
  if (raw === null || raw === undefined || raw === '') return NaN;
  if (raw instanceof Date) return raw.getTime();
  if (typeof raw === 'string' && ISO_RE.test(raw)) return Date.parse(raw);
  throw new InvalidArgumentError(
    `feature "${feature}": field "${field}" holds ${typeof raw === 'string' ? `"${raw}"` : describe(raw)}; ` +
      'pass epoch milliseconds, a Date, or ISO-8601 with "Z" or an offset (e.g. 2024-05-01T10:00:00Z)',
  );
}

/** Epoch milliseconds of a `now` option; NaN when absent. */
export function resolveNow(now: TimeInput | undefined): number {
  return now === undefined ? NaN : toEpochMs(now, '(now)', 'now');
}

/** Request values first, then the row's field of the same name. */
function lookup(row: Row, request: Row | undefined, field: string): unknown {
  if (request !== undefined) {
    const v = request[field];
    if (v !== undefined) return v;
  }
  return row[field];
}

/** UTC hour of the day, 0–23. */
export function utcHour(ms: number): number {
  const h = Math.floor(ms / MS_PER_HOUR) % 24;
  return h < 0 ? h + 24 : h + 0; // + 0 turns −0 (from a negative multiple of 24) into 0
}

/** UTC day of the week, Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday). */
export function utcDayOfWeek(ms: number): number {
  const d = (Math.floor(ms / MS_PER_DAY) + 3) % 7;
  return d < 0 ? d + 7 : d + 0;
}

/** Builds the function that reads a feature's raw value as a number (NaN = missing). */
export function numericReader(feature: FeatureSpec): NumericReader {
  const name = feature.name;
  const source: FeatureSource = feature.source;
  if ('field' in source) {
    const field = source.field;
    return (row) => toNumber(row[field], name, field);
  }
  if ('ratio' in source) {
    const [num, den] = source.ratio;
    return (row) => {
      const d = toNumber(row[den], name, den);
      // A zero denominator is missing, not ±Infinity: no model input should be infinite.
      if (d === 0 || d !== d) return NaN;
      const r = toNumber(row[num], name, num) / d;
      return Number.isFinite(r) ? r : NaN;
    };
  }
  if ('requestTime' in source) {
    const field = source.requestTime;
    return (row, request) => toNumber(lookup(row, request, field), name, field);
  }
  const { field, part, since } = source.time;
  if (part === 'hour') return (row) => utcHour(toEpochMs(row[field], name, field));
  if (part === 'day_of_week') return (row) => utcDayOfWeek(toEpochMs(row[field], name, field));
  if (since !== undefined) {
    return (row, request) =>
      (toEpochMs(lookup(row, request, since), name, since) - toEpochMs(row[field], name, field)) / 1000;
  }
  return (row, _request, now) => {
    if (now !== now) {
      throw new InvalidArgumentError(
        `feature "${name}": age_seconds without "since" needs the reference time; pass the "now" option`,
      );
    }
    return (now - toEpochMs(row[field], name, field)) / 1000;
  };
}

/** Builds the function that reads a feature's raw value as a category (undefined = missing). */
export function categoryReader(feature: FeatureSpec): CategoryReader {
  const name = feature.name;
  const source = feature.source;
  if ('field' in source) {
    const field = source.field;
    return (row) => toCategory(row[field], name, field);
  }
  if ('requestTime' in source) {
    const field = source.requestTime;
    return (row, request) => toCategory(lookup(row, request, field), name, field);
  }
  // Ratios and time parts are numbers first; as categories they take the number's string.
  const read = numericReader(feature);
  return (row, request, now) => {
    const x = read(row, request, now);
    return x === x ? String(x) : undefined;
  };
}
