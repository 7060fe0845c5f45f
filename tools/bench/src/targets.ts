import { ratio } from './stats.js';

/** A cell: one scenario at one concurrency. */
export interface CellRef {
  readonly scenario: string;
  readonly concurrency: number;
}

/**
 * A throughput target: throughput of the best of `numerator` cells divided by the throughput of
 * the `denominator` cell, both measured in the same run, must be at least `minRatio`.
 */
export interface ThroughputTargetSpec {
  readonly kind?: 'throughput';
  readonly id: string;
  readonly description: string;
  readonly numerator: readonly CellRef[];
  readonly denominator: CellRef;
  readonly minRatio: number;
}

/** A latency percentile a target reads from a cell. */
export type LatencyStatistic = 'p50Ms' | 'p99Ms';

/**
 * A latency target: a percentile of one cell must not exceed a bound made of other cells of the
 * same run, `factor × Σ weight × percentile(term)`, e.g. the router's p50 at 1 in flight against
 * 1.3 × (3 × the echo's p50 + the model's p50). Its ratio is bound ÷ measured: ≥ 1 passes.
 */
export interface LatencyTargetSpec {
  readonly kind: 'latency';
  readonly id: string;
  readonly description: string;
  readonly statistic: LatencyStatistic;
  readonly cell: CellRef;
  readonly factor: number;
  readonly terms: readonly { readonly cell: CellRef; readonly weight: number }[];
}

/** A performance target, stated between cells of the same run. */
export type TargetSpec = ThroughputTargetSpec | LatencyTargetSpec;

/** What a target needs to know about a measured cell. */
export interface CellThroughput extends CellRef {
  readonly throughputPerSecond: number;
  /** False when the cell had failed requests: its number is not a measurement. */
  readonly ok: boolean;
  /** Latency percentiles, when the cell measured requests. */
  readonly load?: { readonly latency: Readonly<Record<LatencyStatistic, number>> };
}

/** How a latency target's bound was made: each term's measured value. */
export interface LatencyBound {
  readonly statistic: LatencyStatistic;
  readonly cell: CellRef;
  readonly measuredMs: number;
  readonly boundMs: number;
  readonly factor: number;
  readonly terms: readonly { readonly cell: CellRef; readonly weight: number; readonly ms: number }[];
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
  /** For a latency target: the measured value and the bound. */
  readonly latency?: LatencyBound;
}

function sameCell(a: CellRef, b: CellRef): boolean {
  return a.scenario === b.scenario && a.concurrency === b.concurrency;
}

function describeCell(cell: CellRef): string {
  return `${cell.scenario} @${cell.concurrency}`;
}

const findCell = (cells: readonly CellThroughput[], ref: CellRef): CellThroughput | undefined =>
  cells.find((c) => sameCell(c, ref) && c.ok);

function evaluateLatencyTarget(target: LatencyTargetSpec, cells: readonly CellThroughput[]): TargetResult {
  // Bound ÷ measured ≥ 1 passes, so the result reads like a throughput target's.
  const base = { id: target.id, description: target.description, minRatio: 1 };
  const valueOf = (ref: CellRef): number | undefined => findCell(cells, ref)?.load?.latency[target.statistic];
  const refs = [target.cell, ...target.terms.map((t) => t.cell)];
  const unmeasured = refs.filter((ref) => valueOf(ref) === undefined);
  if (unmeasured.length > 0) {
    return {
      ...base,
      verdict: 'N/A',
      missing: `no measurement of ${unmeasured.map(describeCell).join(', ')}`,
    };
  }
  const terms = target.terms.map((t) => ({ cell: t.cell, weight: t.weight, ms: valueOf(t.cell)! }));
  const boundMs = target.factor * terms.reduce((sum, t) => sum + t.weight * t.ms, 0);
  const measuredMs = valueOf(target.cell)!;
  const latency: LatencyBound = {
    statistic: target.statistic,
    cell: target.cell,
    measuredMs,
    boundMs,
    factor: target.factor,
    terms,
  };
  const value = ratio(boundMs, measuredMs);
  if (value === undefined) {
    return { ...base, verdict: 'N/A', latency, missing: `${describeCell(target.cell)} measured 0 ms` };
  }
  return { ...base, verdict: value >= 1 ? 'PASS' : 'FAIL', ratio: value, latency };
}

/** Evaluates one target against the cells of a run. Pure. */
export function evaluateTarget(target: TargetSpec, cells: readonly CellThroughput[]): TargetResult {
  if (target.kind === 'latency') return evaluateLatencyTarget(target, cells);
  const base = { id: target.id, description: target.description, minRatio: target.minRatio };
  const find = (ref: CellRef): CellThroughput | undefined => findCell(cells, ref);
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
