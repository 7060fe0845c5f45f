import type { monitor } from '@slipway/contracts';
import { InvalidArgumentError, NotFoundError } from '@slipway/errors';
import {
  normalQuantile,
  sampleSizeTwoProportions,
  summarize,
  twoProportionZTest,
  welchTTest,
} from '@slipway/monitoring';
import type { MonitorStore } from '../store/monitor-store.js';
import { requireName } from './window.js';

/** Minimum detectable effect (absolute) when the request names none. */
export const DEFAULT_MDE = 0.02;
/** Significance level of the comparisons and of the sample-size estimate (two-sided). */
export const EXPERIMENT_ALPHA = 0.05;
/** Power of the sample-size estimate. */
export const EXPERIMENT_POWER = 0.8;

/** One arm's units and their KPI values, in assignment order. */
interface Arm {
  readonly name: string;
  readonly values: number[];
}

/**
 * Units per arm to detect an absolute difference `mde` between two means with a two-sided
 * z-approximation: 2·(z_{1−α/2} + z_power)²·σ²/mde², σ² the control's variance. 0 when unknown.
 */
export function sampleSizeTwoMeans(variance: number, mde: number): number {
  if (!(variance > 0) || !Number.isFinite(variance)) return 0;
  const z = normalQuantile(1 - EXPERIMENT_ALPHA / 2) + normalQuantile(EXPERIMENT_POWER);
  return Math.ceil((2 * z * z * variance) / (mde * mde) - 1e-9);
}

function requiredUnits(control: Arm | undefined, binary: boolean, mde: number): number {
  if (!control || control.values.length === 0) return 0;
  const summary = summarize(control.values);
  if (!binary) return control.values.length < 2 ? 0 : sampleSizeTwoMeans(summary.variance, mde);
  const rate = summary.mean;
  // Detecting a rise when there is room above the baseline, else a fall.
  const effect = rate + mde < 1 ? mde : -mde;
  if (!(rate > 0 && rate < 1 && rate + effect > 0 && rate + effect < 1)) return 0;
  return sampleSizeTwoProportions({
    baselineRate: rate,
    minimumDetectableEffect: effect,
    alpha: EXPERIMENT_ALPHA,
    power: EXPERIMENT_POWER,
  });
}

function compare(control: Arm, arm: Arm, binary: boolean): monitor.ArmComparison | undefined {
  // Fewer than two units in an arm leave no variance to test with.
  if (control.values.length < 2 || arm.values.length < 2) return undefined;
  const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
  const result = binary
    ? {
        ...twoProportionZTest(
          { successes: sum(control.values), trials: control.values.length },
          { successes: sum(arm.values), trials: arm.values.length },
        ),
        test: 'two-proportion-z',
      }
    : { ...welchTTest(control.values, arm.values), test: 'welch-t' };
  return {
    arm: arm.name,
    control: control.name,
    difference: result.difference,
    ciLow: result.confidenceInterval[0],
    ciHigh: result.confidenceInterval[1],
    pValue: result.pValue,
    test: result.test,
    significant: result.pValue < EXPERIMENT_ALPHA,
  };
}

/**
 * The outcome of an A/B experiment on one KPI. Units are the distinct unit keys of the
 * experiment's primary predictions, each in the arm of its first prediction. A unit's KPI is the
 * sum of its outcomes of that KPI (by unit key and deployment, or by the request id of one of its
 * predictions), 0 without any. A KPI whose unit values are all 0 or 1 is a rate, compared with
 * the two-proportion z-test; any other with Welch's t-test; each arm against the control
 * (`control`, else the arm named "control", else the first arm assigned), at 95 %.
 *
 * @throws InvalidArgumentError without an experiment or KPI, or for a negative MDE.
 * @throws NotFoundError for an experiment without records, a KPI without outcomes, or a control
 *   that is not an arm.
 */
export async function getExperimentReport(
  store: MonitorStore,
  request: monitor.GetExperimentReportRequest,
): Promise<monitor.GetExperimentReportResponse> {
  const experiment = requireName(request.experiment, 'experiment', 'GetExperimentReport');
  const kpi = requireName(request.kpi, 'kpi', 'GetExperimentReport');
  if (!(request.mde >= 0) || !Number.isFinite(request.mde)) {
    throw new InvalidArgumentError(
      `GetExperimentReport: mde ${request.mde} must be a positive absolute difference, e.g. 0.02`,
    );
  }
  const mde = request.mde === 0 ? DEFAULT_MDE : request.mde;
  const units = await store.experimentUnits(experiment);
  if (units.length === 0) {
    const known = await store.experiments();
    throw new NotFoundError(
      `the monitor has no prediction records of experiment "${experiment}" ` +
        (known.length === 0 ? '(none of any experiment yet)' : `(experiments: ${known.join(', ')})`),
    );
  }
  const kpis = await store.kpis();
  if (!kpis.includes(kpi)) {
    throw new NotFoundError(
      `no outcomes of KPI "${kpi}" were ingested ` +
        (kpis.length === 0
          ? '(no KPI outcomes at all yet: send them with IngestOutcomes)'
          : `(KPIs: ${kpis.join(', ')})`),
    );
  }
  const totals = await store.kpiTotals(experiment, kpi);
  const arms = new Map<string, Arm>();
  const deployments = new Set<string>();
  for (const unit of units) {
    let arm = arms.get(unit.arm);
    if (!arm) arms.set(unit.arm, (arm = { name: unit.arm, values: [] }));
    arm.values.push(totals.get(unit.unitKey) ?? 0);
    deployments.add(unit.deployment);
  }
  let control: Arm | undefined;
  if (request.control !== '') {
    control = arms.get(request.control);
    if (!control) {
      throw new NotFoundError(
        `experiment "${experiment}" has no arm "${request.control}" (arms: ${[...arms.keys()].join(', ')})`,
      );
    }
  } else {
    control = arms.get('control') ?? arms.values().next().value!;
  }
  const binary = [...arms.values()].every((a) => a.values.every((v) => v === 0 || v === 1));
  const armResults = [...arms.values()].map((a): monitor.ArmResult => {
    const s = summarize(a.values);
    return {
      arm: a.name,
      units: BigInt(a.values.length),
      // A plain sum: a rate then reads exactly (60/300 = 0.2, not Welford's 0.2000000000000001).
      mean: a.values.reduce((x, y) => x + y, 0) / a.values.length,
      stdDev: a.values.length < 2 ? 0 : Math.sqrt(s.variance),
    };
  });
  const comparisons = [...arms.values()]
    .filter((a) => a !== control)
    .map((a) => compare(control, a, binary))
    .filter((c) => c !== undefined);
  return {
    experiment,
    deployment: [...deployments].join(', '),
    kpi,
    arms: armResults,
    comparisons,
    requiredUnitsPerArm: BigInt(requiredUnits(control, binary, mde)),
  };
}
