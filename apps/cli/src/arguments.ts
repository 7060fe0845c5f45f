import { UsageError } from './exit-codes.js';

/** A model version number (1 or more). */
export function parseVersion(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`${what} "${text}" is not a version number (1 or more)`);
  return Number(text);
}

/** A whole percentage, 0..100. */
export function parsePercent(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 100)
    throw new UsageError(`${what} "${text}" is not a whole percentage from 0 to 100`);
  return Number(text);
}

/** A finite decimal number. */
export function parseNumber(text: string, what: string): number {
  if (!DECIMAL.test(text.trim())) throw new UsageError(`${what} "${text}" is not a number`);
  return Number(text);
}

/** Decimal notation only: `31.5`, `-2`, `1e-3`; not `0x10`, `Infinity` or an empty string. */
export const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** `key=value`, split at the first `=`; the key must not be empty. */
export function parsePair(text: string, flag: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`${flag} "${text}" must be key=value`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `--entity-key` values: one column (the feature set's only key), or `key=column` for every key;
 * undefined when none was given.
 */
export function parseEntityColumns(specs: readonly string[]): string | Record<string, string> | undefined {
  if (specs.length === 0) return undefined;
  const pairs = specs.filter((s) => s.includes('='));
  if (pairs.length === 0 && specs.length === 1) return specs[0]!;
  if (pairs.length !== specs.length) {
    throw new UsageError('--entity-key: give one column, or key=column for every key (repeatable)');
  }
  const mapping: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const [key, column] = [pair.slice(0, eq), pair.slice(eq + 1)];
    if (!key || !column) throw new UsageError(`--entity-key "${pair}" must be key=column`);
    mapping[key] = column;
  }
  return mapping;
}

/** An ISO-8601 time with a date; `Z` or an offset recommended (without one, local time). */
export function parseTime(text: string, flag: string): Date {
  const time = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(time.getTime())) {
    throw new UsageError(`${flag} "${text}" is not an ISO-8601 time, e.g. 2026-01-31T00:00:00Z`);
  }
  return time;
}

/** A fraction from 0 to 1. */
export function parseFraction(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new UsageError(`${flag} "${text}" is not a fraction from 0 to 1 (e.g. 0.01 for 1%)`);
  }
  return value;
}

/** A whole number of rows, 1 or more. */
export function parseCount(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`${flag} "${text}" is not a whole number of rows (1 or more)`);
  return Number(text);
}
