import { describe, expect, it } from 'vitest';
import { evaluateTarget, evaluateTargets, type CellThroughput, type TargetSpec } from './targets.js';

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
