import { describe, expect, it } from 'vitest';
import { disturbance, formatMs, formatRate, formatTarget } from './report.js';
import type { ScenarioOutcome } from './runner.js';

describe('report formatting', () => {
  it('prints about three significant digits of milliseconds', () => {
    expect([0.2149, 4.271, 61.34, 1204.4].map(formatMs)).toEqual(['0.215', '4.27', '61.3', '1,204']);
    expect(formatRate(12345.6)).toBe('12,346');
  });

  it('states a verdict with both numbers, or what is missing', () => {
    const cell = (scenario: string, throughputPerSecond: number) => ({
      scenario,
      concurrency: 64,
      throughputPerSecond,
      ok: true,
    });
    expect(
      formatTarget({
        id: 't',
        description: 'batching ≥ 3× off',
        minRatio: 3,
        verdict: 'FAIL',
        ratio: 2.5,
        best: cell('on', 2500),
        baseline: cell('off', 1000),
      }),
    ).toBe('FAIL  batching ≥ 3× off: 2.50 (needs ≥ 3.00): on 2,500 req/s vs off 1,000 req/s');
    expect(
      formatTarget({
        id: 't',
        description: 'x',
        minRatio: 3,
        verdict: 'N/A',
        missing: 'no measurement of off @64',
      }),
    ).toBe('N/A   x: no measurement of off @64');
  });

  it('warns only when other processes used the CPU during a window', () => {
    const outcome = (otherCpuPercent: number): ScenarioOutcome => ({
      id: 's',
      group: 'g',
      label: 's',
      notes: [],
      cells: [
        {
          scenario: 's',
          group: 'g',
          label: 's',
          concurrency: 1,
          throughputPerSecond: 1,
          ok: true,
          otherCpuPercent,
        },
      ],
    });
    expect(disturbance([outcome(3)])).toBeUndefined();
    expect(disturbance([outcome(3), outcome(140)])).toContain('during 1 of 2 windows (up to 140%');
  });
});
