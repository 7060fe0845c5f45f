// GetExperimentReport over real gRPC with a fresh database per test, on seeded synthetic experiments.
import type { monitor } from '@slipway/contracts';
import { InvalidArgumentError, NotFoundError } from '@slipway/errors';
import { sampleSizeTwoProportions, twoProportionZTest, welchTTest } from '@slipway/monitoring';
import { createSeededRandom } from '@slipway/onnx';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { predictionRecord, startMonitor, type RunningMonitor } from '../testing/fixtures.js';
import { sampleSizeTwoMeans } from './experiment.js';

let running: RunningMonitor;
beforeEach(async () => {
  running = await startMonitor();
});
afterEach(() => running.close());

const HOUR = 3_600_000;
const RATES: Record<string, number> = { control: 0.1, treatment: 0.12 };

interface Unit {
  key: string;
  arm: string;
  converted: number;
  revenue: number;
}

const outcome = (o: Partial<monitor.Outcome>): monitor.Outcome => ({
  outcomeId: '',
  requestId: '',
  unitKey: '',
  deployment: '',
  label: undefined,
  kpi: '',
  value: 0,
  time: undefined,
  ...o,
});

/**
 * `perArm` units per arm with a known two-point lift in conversion. Every unit sees one or two
 * predictions; some see a later one in the other arm (their first arm counts). Conversions and
 * revenue are sent half by unit key, half by the request id of the unit's first prediction.
 */
async function runExperiment(perArm: number, seed = 2024): Promise<Unit[]> {
  const random = createSeededRandom(seed);
  const now = Date.now();
  const units: Unit[] = [];
  const records: monitor.PredictionRecord[] = [];
  const outcomes: monitor.Outcome[] = [];
  for (let i = 0; i < 2 * perArm; i++) {
    const arm = i % 2 === 0 ? 'control' : 'treatment';
    const key = `u${i}`;
    const time = now - 10 * HOUR + i * 100;
    const base = {
      experiment: 'checkout',
      unitKey: key,
      deployment: 'fraud',
      experimentArm: arm,
      variant: arm,
    };
    records.push(predictionRecord(i, { ...base, requestId: `${key}-a`, time: new Date(time) }));
    if (random.next() < 0.3) {
      const other = arm === 'control' ? 'treatment' : 'control';
      records.push(
        predictionRecord(i, {
          ...base,
          requestId: `${key}-b`,
          experimentArm: other,
          variant: other,
          time: new Date(time + HOUR),
        }),
      );
    }
    const converted = random.next() < RATES[arm]! ? 1 : 0;
    const revenue = converted ? Math.round(100 * Math.exp(3 + 0.5 * random.normal())) / 100 : 0;
    units.push({ key, arm, converted, revenue });
    if (!converted) continue;
    const owner = i % 4 < 2 ? { unitKey: key, deployment: 'fraud' } : { requestId: `${key}-a` };
    outcomes.push(outcome({ ...owner, kpi: 'converted', value: 1, time: new Date(time + 60_000) }));
    outcomes.push(outcome({ ...owner, kpi: 'revenue', value: revenue, time: new Date(time + 60_000) }));
  }
  // Out of order: later records first, as several routers would deliver them.
  records.reverse();
  for (let i = 0; i < records.length; i += 5_000) {
    await running.deployer.ingestPredictions([{ records: records.slice(i, i + 5_000) }]);
  }
  await running.deployer.ingestOutcomes([{ outcomes }]);
  return units;
}

function arm(units: readonly Unit[], name: string, kpi: 'converted' | 'revenue'): number[] {
  return units.filter((u) => u.arm === name).map((u) => u[kpi]);
}

describe('GetExperimentReport', () => {
  it('finds a known two-point lift in a conversion rate: its interval covers 0.02', async () => {
    const units = await runExperiment(20_000);
    const report = await running.reader.getExperimentReport({
      experiment: 'checkout',
      kpi: 'converted',
      mde: 0,
      control: '',
    });
    const control = arm(units, 'control', 'converted');
    const treatment = arm(units, 'treatment', 'converted');
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(report.deployment).toBe('fraud');
    expect(report.arms.map((a) => [a.arm, a.units])).toEqual([
      ['control', 20_000n],
      ['treatment', 20_000n],
    ]);
    expect(report.arms[0]!.mean).toBeCloseTo(sum(control) / 20_000, 12);
    expect(report.arms[1]!.mean).toBeCloseTo(sum(treatment) / 20_000, 12);
    const offline = twoProportionZTest(
      { successes: sum(control), trials: control.length },
      { successes: sum(treatment), trials: treatment.length },
    );
    expect(report.comparisons).toEqual([
      {
        arm: 'treatment',
        control: 'control',
        difference: expect.closeTo(offline.difference, 12),
        ciLow: expect.closeTo(offline.confidenceInterval[0], 12),
        ciHigh: expect.closeTo(offline.confidenceInterval[1], 12),
        pValue: expect.closeTo(offline.pValue, 12),
        test: 'two-proportion-z',
        significant: true,
      },
    ]);
    const [lift] = report.comparisons;
    expect(lift!.ciLow).toBeLessThan(0.02);
    expect(lift!.ciHigh).toBeGreaterThan(0.02);
    expect(lift!.ciLow).toBeGreaterThan(0);
    expect(report.requiredUnitsPerArm).toBe(
      BigInt(
        sampleSizeTwoProportions({ baselineRate: sum(control) / 20_000, minimumDetectableEffect: 0.02 }),
      ),
    );
    // About 3,800 per arm at a 10 % baseline: the textbook number.
    expect(Number(report.requiredUnitsPerArm)).toBeGreaterThan(3_500);
    expect(Number(report.requiredUnitsPerArm)).toBeLessThan(4_100);
  });

  it("compares a continuous KPI with Welch's t-test, against the control asked for", async () => {
    const units = await runExperiment(2_000, 7);
    const report = await running.reader.getExperimentReport({
      experiment: 'checkout',
      kpi: 'revenue',
      mde: 0.5,
      control: 'treatment',
    });
    const offline = welchTTest(arm(units, 'treatment', 'revenue'), arm(units, 'control', 'revenue'));
    expect(report.comparisons).toEqual([
      {
        arm: 'control',
        control: 'treatment',
        difference: expect.closeTo(offline.difference, 9),
        ciLow: expect.closeTo(offline.confidenceInterval[0], 9),
        ciHigh: expect.closeTo(offline.confidenceInterval[1], 9),
        pValue: expect.closeTo(offline.pValue, 9),
        test: 'welch-t',
        significant: offline.pValue < 0.05,
      },
    ]);
    const treatment = arm(units, 'treatment', 'revenue');
    const mean = treatment.reduce((a, b) => a + b, 0) / treatment.length;
    const variance = treatment.reduce((s, x) => s + (x - mean) ** 2, 0) / (treatment.length - 1);
    expect(report.arms.find((a) => a.arm === 'treatment')!.stdDev).toBeCloseTo(Math.sqrt(variance), 9);
    expect(report.requiredUnitsPerArm).toBe(BigInt(sampleSizeTwoMeans(variance, 0.5)));
  });

  it('says what is unknown: the experiment, the KPI, the control arm', async () => {
    await runExperiment(10);
    const request = { experiment: 'checkout', kpi: 'converted', mde: 0, control: '' };
    const cases: [Partial<monitor.GetExperimentReportRequest>, unknown, string][] = [
      [
        { experiment: 'chekout' },
        NotFoundError,
        'no prediction records of experiment "chekout" (experiments: checkout)',
      ],
      [
        { kpi: 'convertd' },
        NotFoundError,
        'no outcomes of KPI "convertd" were ingested (KPIs: converted, revenue)',
      ],
      [
        { control: 'baseline' },
        NotFoundError,
        'experiment "checkout" has no arm "baseline" (arms: control, treatment)',
      ],
      [{ kpi: '' }, InvalidArgumentError, 'GetExperimentReport: kpi is required'],
      [{ mde: -0.1 }, InvalidArgumentError, 'mde -0.1 must be a positive absolute difference'],
    ];
    for (const [change, type, message] of cases) {
      const failure = running.reader.getExperimentReport({ ...request, ...change });
      await expect(failure).rejects.toThrow(type as typeof NotFoundError);
      await expect(failure).rejects.toThrow(message);
    }
  });
});
