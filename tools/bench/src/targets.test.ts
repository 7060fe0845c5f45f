import { describe, expect, it } from 'vitest';
import {
  evaluateTarget,
  evaluateTargets,
  type CellThroughput,
  type LatencyTargetSpec,
  type TargetSpec,
} from './targets.js';

const target: TargetSpec = {
  id: 'tiny',
  description: 'worker ≥ 80% of echo',
  numerator: [
    { scenario: 'worker-unbatched/tiny', concurrency: 64 },
    { scenario: 'worker-batching/tiny', concurrency: 64 },
  ],
  denominator: { scenario: 'grpc-echo/tiny', concurrency: 64 },
  minRatio: 0.8,
};

function cell(scenario: string, throughputPerSecond: number, concurrency = 64, ok = true): CellThroughput {
  return { scenario, concurrency, throughputPerSecond, ok };
}

describe('evaluateTarget', () => {
  it('passes on the best numerator cell', () => {
    const result = evaluateTarget(target, [
      cell('grpc-echo/tiny', 10_000),
      cell('worker-unbatched/tiny', 5_000),
      cell('worker-batching/tiny', 8_500),
    ]);
    expect(result.verdict).toBe('PASS');
    expect(result.ratio).toBeCloseTo(0.85);
    expect(result.best?.scenario).toBe('worker-batching/tiny');
  });

  it('fails below the ratio, and a ratio exactly at the bound passes', () => {
    expect(
      evaluateTarget(target, [cell('grpc-echo/tiny', 10_000), cell('worker-batching/tiny', 7_999)]).verdict,
    ).toBe('FAIL');
    expect(
      evaluateTarget(target, [cell('grpc-echo/tiny', 10_000), cell('worker-batching/tiny', 8_000)]).verdict,
    ).toBe('PASS');
  });

  it('ignores cells at other concurrencies and failed cells', () => {
    const result = evaluateTarget(target, [
      cell('grpc-echo/tiny', 10_000),
      cell('worker-batching/tiny', 99_000, 1),
      cell('worker-unbatched/tiny', 99_000, 64, false),
      cell('worker-unbatched/tiny', 1_000),
    ]);
    expect(result).toMatchObject({ verdict: 'FAIL', ratio: 0.1 });
  });

  it('is N/A, saying what is missing, without a baseline or a candidate', () => {
    expect(evaluateTarget(target, [cell('worker-batching/tiny', 1)])).toMatchObject({
      verdict: 'N/A',
      missing: 'no measurement of grpc-echo/tiny @64',
    });
    expect(evaluateTarget(target, [cell('grpc-echo/tiny', 1)]).missing).toContain(
      'worker-unbatched/tiny @64 or',
    );
    expect(evaluateTarget(target, [cell('grpc-echo/tiny', 0), cell('worker-batching/tiny', 1)]).verdict).toBe(
      'N/A',
    );
  });

  it('evaluates a list in order', () => {
    const results = evaluateTargets(
      [target, { ...target, id: 'other', minRatio: 3 }],
      [cell('grpc-echo/tiny', 100), cell('worker-batching/tiny', 200)],
    );
    expect(results.map((r) => [r.id, r.verdict])).toEqual([
      ['tiny', 'PASS'],
      ['other', 'FAIL'],
    ]);
  });
});

describe('evaluateTarget, latency', () => {
  const latency: LatencyTargetSpec = {
    kind: 'latency',
    id: 'router-latency',
    description: 'router p50 ≤ 1.3 × (3 × echo p50 + model p50)',
    statistic: 'p50Ms',
    cell: { scenario: 'router', concurrency: 1 },
    factor: 1.3,
    terms: [
      { cell: { scenario: 'echo', concurrency: 1 }, weight: 3 },
      { cell: { scenario: 'model', concurrency: 1 }, weight: 1 },
    ],
  };
  const timed = (scenario: string, p50Ms: number, ok = true): CellThroughput => ({
    scenario,
    concurrency: 1,
    throughputPerSecond: 1,
    ok,
    load: { latency: { p50Ms, p99Ms: p50Ms * 4 } },
  });

  it('passes when the percentile is within factor × the weighted sum, and says how the bound was made', () => {
    // Bound: 1.3 × (3 × 0.5 + 0.1) = 2.08 ms.
    const result = evaluateTarget(latency, [timed('router', 2), timed('echo', 0.5), timed('model', 0.1)]);
    expect(result.verdict).toBe('PASS');
    expect(result.ratio).toBeCloseTo(1.04);
    expect(result.latency?.boundMs).toBeCloseTo(2.08);
    expect(result.latency?.measuredMs).toBe(2);
    expect(result.latency?.terms.map((t) => [t.cell.scenario, t.weight, t.ms])).toEqual([
      ['echo', 3, 0.5],
      ['model', 1, 0.1],
    ]);
  });

  it('fails above the bound', () => {
    const result = evaluateTarget(latency, [timed('router', 2.2), timed('echo', 0.5), timed('model', 0.1)]);
    expect(result.verdict).toBe('FAIL');
    expect(result.ratio).toBeLessThan(1);
  });

  it('is N/A, naming every cell missing, when a cell is unmeasured or failed', () => {
    expect(evaluateTarget(latency, [timed('router', 2), timed('echo', 0.5, false)])).toMatchObject({
      verdict: 'N/A',
      missing: 'no measurement of echo @1, model @1',
    });
  });
});
