import { describe, expect, it } from 'vitest';
import { disturbance, formatMs, formatRate, formatTarget, processCpuLines } from './report.js';
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

  it('states a latency verdict with the measured value and how the bound was made', () => {
    const ref = (scenario: string) => ({ scenario, concurrency: 1 });
    expect(
      formatTarget({
        id: 'l',
        description: 'router p50 ≤ bound',
        minRatio: 1,
        verdict: 'FAIL',
        ratio: 0.5,
        latency: {
          statistic: 'p50Ms',
          cell: ref('router'),
          measuredMs: 4,
          boundMs: 2,
          factor: 1.3,
          terms: [
            { cell: ref('echo'), weight: 3, ms: 0.5 },
            { cell: ref('model'), weight: 1, ms: 0.0386 },
          ],
        },
      }),
    ).toBe(
      'FAIL  router p50 ≤ bound: 0.50 (needs ≥ 1.00): router @1 p50 4.00 ms vs bound 2.00 ms = 1.3 × (3 × 0.500 ms echo @1 + 1 × 0.039 ms model @1)',
    );
  });

  it('lists CPU by process, busiest first, for cells of several processes', () => {
    const outcome: ScenarioOutcome = {
      id: 'router',
      group: 'g',
      label: 'router',
      notes: [],
      cells: [
        {
          scenario: 'router',
          group: 'g',
          label: 'router',
          concurrency: 64,
          throughputPerSecond: 1,
          ok: true,
          processCpuPercent: { features: 20.4, router: 61.2 },
          load: {
            completed: 1,
            errors: 0,
            errorSamples: [],
            windowMs: 1000,
            hitCallLimit: false,
            throughputPerSecond: 1,
            latency: { count: 1, meanMs: 1, p50Ms: 1, p90Ms: 1, p99Ms: 1, p999Ms: 1, maxMs: 1 },
            histogram: '',
            clientCpuPercent: 30,
            requestBytes: undefined,
            responseBytes: undefined,
          },
        },
      ],
    };
    expect(processCpuLines([outcome])).toEqual([
      'CPU by process, router @64: router 61%, features 20%, load generator 30%',
    ]);
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
