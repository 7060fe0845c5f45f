/**
 * Multiple-testing corrections. Testing twenty features at α = 0.05 raises a false alarm in about
 * two windows of three when nothing changed (1 − 0.95²⁰ ≈ 0.64); adjusting the p-values across
 * the features of one window brings that back to about α.
 */
import { InvalidArgumentError } from '@slipway/errors';

/**
 * How p-values are adjusted across the tests of one window:
 * - `benjamini-hochberg`: controls the false discovery rate (the expected share of false alarms
 *   among the features flagged); with no drift at all it is also the chance of any false alarm.
 * - `bonferroni`: controls the chance of any false alarm in every case; more conservative.
 * - `none`: each test at α on its own.
 */
export type PValueCorrection = 'benjamini-hochberg' | 'bonferroni' | 'none';

function check(pValues: readonly number[]): void {
  for (const p of pValues) {
    if (!(p >= 0 && p <= 1)) throw new InvalidArgumentError(`p-values must lie in [0, 1], got ${p}`);
  }
}

/**
 * Benjamini–Hochberg adjusted p-values (step-up, monotone, capped at 1), in the input order: a
 * test is significant at false discovery rate α when its adjusted p-value is ≤ α.
 *
 * @throws InvalidArgumentError for a p-value outside [0, 1].
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  check(pValues);
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const { p, i } = order[rank - 1]!;
    running = Math.min(running, (p * m) / rank);
    // Never below p (p·m/m can round a hair under it).
    adjusted[i] = Math.max(p, running);
  }
  return adjusted;
}

/**
 * Bonferroni adjusted p-values: min(1, m·p).
 *
 * @throws InvalidArgumentError for a p-value outside [0, 1].
 */
export function bonferroni(pValues: readonly number[]): number[] {
  check(pValues);
  return pValues.map((p) => Math.min(1, p * pValues.length));
}

/**
 * Adjusts p-values by the named correction (`none` returns them unchanged).
 *
 * @throws InvalidArgumentError for a p-value outside [0, 1].
 */
export function adjustPValues(pValues: readonly number[], correction: PValueCorrection): number[] {
  switch (correction) {
    case 'benjamini-hochberg':
      return benjaminiHochberg(pValues);
    case 'bonferroni':
      return bonferroni(pValues);
    case 'none':
      check(pValues);
      return pValues.slice();
  }
}
