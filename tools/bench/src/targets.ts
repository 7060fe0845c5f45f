import { ratio } from './stats.js';

/** A cell: one scenario at one concurrency. */
export interface CellRef {
  readonly scenario: string;
  readonly concurrency: number;
}

/**
 * A performance target: throughput of the best of `numerator` cells divided by the throughput of
 * the `denominator` cell, both measured in the same run, must be at least `minRatio`.
 */
export interface TargetSpec {
  readonly id: string;
  readonly description: string;
  readonly numerator: readonly CellRef[];
  readonly denominator: CellRef;
  readonly minRatio: number;
}

/** What a target needs to know about a measured cell. */
export interface CellThroughput extends CellRef {
  readonly throughputPerSecond: number;
  /** False when the cell had failed requests: its number is not a measurement. */
  readonly ok: boolean;
}

/** PASS/FAIL, or N/A when a cell it needs was not measured (filtered out, or failed). */
export type Verdict = 'PASS' | 'FAIL' | 'N/A';

/** A target's outcome. */
export interface TargetResult {
  readonly id: string;
  readonly description: string;
  readonly minRatio: number;
  readonly verdict: Verdict;
  readonly ratio?: number;
  /** The numerator cell that was best. */
  readonly best?: CellThroughput;
  readonly baseline?: CellThroughput;
  /** Why the verdict is N/A. */
  readonly missing?: string;
}

function sameCell(a: CellRef, b: CellRef): boolean {
  return a.scenario === b.scenario && a.concurrency === b.concurrency;
}

function describeCell(cell: CellRef): string {
  return `${cell.scenario} @${cell.concurrency}`;
}

/** Evaluates one target against the cells of a run. Pure. */
export function evaluateTarget(target: TargetSpec, cells: readonly CellThroughput[]): TargetResult {
  const base = { id: target.id, description: target.description, minRatio: target.minRatio };
  const find = (ref: CellRef): CellThroughput | undefined => cells.find((c) => sameCell(c, ref) && c.ok);
  const baseline = find(target.denominator);
  const candidates = target.numerator.map(find).filter((c): c is CellThroughput => c !== undefined);
  if (!baseline)
    return { ...base, verdict: 'N/A', missing: `no measurement of ${describeCell(target.denominator)}` };
  if (candidates.length === 0) {
    return {
      ...base,
      verdict: 'N/A',
      missing: `no measurement of ${target.numerator.map(describeCell).join(' or ')}`,
    };
  }
  const best = candidates.reduce((a, b) => (b.throughputPerSecond > a.throughputPerSecond ? b : a));
  const value = ratio(best.throughputPerSecond, baseline.throughputPerSecond);
  if (value === undefined) {
    return { ...base, verdict: 'N/A', best, baseline, missing: `${describeCell(baseline)} measured 0 req/s` };
  }
  return { ...base, verdict: value >= target.minRatio ? 'PASS' : 'FAIL', ratio: value, best, baseline };
}

/** Evaluates every target. */
export function evaluateTargets(
  targets: readonly TargetSpec[],
  cells: readonly CellThroughput[],
): TargetResult[] {
  return targets.map((target) => evaluateTarget(target, cells));
}
