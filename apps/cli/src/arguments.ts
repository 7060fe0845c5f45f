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
