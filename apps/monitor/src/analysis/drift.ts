import { registry, type monitor } from '@slipway/contracts';
import { FailedPreconditionError, NotFoundError } from '@slipway/errors';
import type { ReferenceProfile } from '@slipway/features';
import { detectDrift, driftColumnsFromVectors, type FeatureDrift } from '@slipway/monitoring';
import type { ParentCall } from '@slipway/service-kit';
import type { RegistryLookup } from '../services/registry-lookup.js';
import type { MonitorStore } from '../store/monitor-store.js';
import { variantNames, variantWithRole } from './deployments.js';
import { formatSeconds, requireName, windowEndingAt } from './window.js';

/** GetDrift's window when the request names none: one hour. */
export const DEFAULT_DRIFT_WINDOW_SECONDS = 3_600;
/**
 * Rows compared with the profile at most; a busier window is sampled evenly. KS and chi-square
 * p-values at this size already flag shifts far too small to matter (hence the distance
 * threshold as well), so more rows would cost time and memory and change no verdict.
 */
export const DRIFT_MAX_SAMPLES = 20_000;

const STATUS: Record<string, string> = { true: 'drift', false: 'ok', insufficient: 'insufficient_data' };

/** `ks+psi`, `chi2+psi` or `chi2+jensen_shannon`: the test, then the distance. */
function methodName(f: FeatureDrift): string {
  const test = f.method === 'kolmogorov-smirnov' ? 'ks' : 'chi2';
  const distance = f.distanceMethod === 'psi' ? 'psi' : 'jensen_shannon';
  return `${test}+${distance}`;
}

/** A library verdict as the contract carries it; NaN where there is no number. */
export function toFeatureDrift(f: FeatureDrift): monitor.FeatureDrift {
  return {
    feature: f.name,
    method: methodName(f),
    statistic: f.statistic ?? NaN,
    pValue: f.adjustedPValue ?? NaN,
    // The contract's field is named for PSI; for one-hot features it holds the Jensen–Shannon
    // distance, the distance their threshold applies to (the method names which).
    psi: f.distance ?? NaN,
    threshold: f.threshold,
    status: STATUS[String(f.drifted)]!,
    samples: BigInt(f.sampleSize),
  };
}

function profileWidth(profile: ReferenceProfile): number {
  return profile.features.reduce((sum, f) => sum + f.columns.length, 0);
}

/** Options of {@link getDrift}. */
export interface DriftContext {
  readonly store: MonitorStore;
  readonly lookup: RegistryLookup | undefined;
  readonly nowMs: number;
  readonly parent?: ParentCall;
  readonly maxSamples?: number;
}

/**
 * Data drift per feature and prediction drift of one variant over [now − window, now): its
 * records of the version it serves now, against that version's reference profile from the
 * registry, with `detectDrift`'s defaults (see the README).
 *
 * @throws FailedPreconditionError without a registry, when the deployment has no stable variant
 *   and none is named, or when the version has no profile.
 * @throws NotFoundError for a deployment or variant the registry does not have.
 */
export async function getDrift(
  ctx: DriftContext,
  request: monitor.GetDriftRequest,
): Promise<monitor.GetDriftResponse> {
  const name = requireName(request.deployment, 'deployment', 'GetDrift');
  const { lookup, store } = ctx;
  if (!lookup) {
    throw new FailedPreconditionError(
      'GetDrift compares records with the reference profile registered with the serving model ' +
        'version, and this monitor has no registry: set SLIPWAY_REGISTRY_ADDR',
    );
  }
  const deployment = await lookup.deployment(name, ctx.parent);
  if (!deployment) throw new NotFoundError(`the registry at ${lookup.address} has no deployment "${name}"`);
  let variant: registry.Variant | undefined;
  if (request.variant === '') {
    variant = variantWithRole(deployment, registry.VariantRole.VARIANT_ROLE_STABLE);
    if (!variant) {
      throw new FailedPreconditionError(
        `deployment "${name}" has no stable variant; name the variant to check (variants: ${variantNames(deployment)})`,
      );
    }
  } else {
    variant = deployment.variants.find((v) => v.name === request.variant);
    if (!variant) {
      throw new NotFoundError(
        `deployment "${name}" has no variant "${request.variant}" (variants: ${variantNames(deployment)})`,
      );
    }
  }
  const profile = await lookup.profile(variant.model, variant.version, ctx.parent);
  const window = windowEndingAt(ctx.nowMs, request.windowSeconds, DEFAULT_DRIFT_WINDOW_SECONDS);
  const sample = await store.driftSample({
    deployment: name,
    variant: variant.name,
    model: variant.model,
    version: variant.version,
    fromMs: window.fromMs,
    toMs: window.toMs,
    featureSetHash: profile.featureSet.contentHash,
    limit: ctx.maxSamples ?? DRIFT_MAX_SAMPLES,
  });
  const width = profileWidth(profile);
  const rows: Float32Array[] = [];
  const scores: number[] = [];
  sample.features.forEach((vector, i) => {
    // Vectors of another width were not built by this feature set (e.g. ModelInfer tensors).
    if (vector.length !== width) return;
    rows.push(vector);
    scores.push(sample.scores[i]!);
  });
  if (sample.features.length > 0 && rows.length === 0) {
    throw new FailedPreconditionError(
      `the records of ${variant.model}@${variant.version} in the last ${formatSeconds(window.seconds)} hold ` +
        `feature vectors of length ${sample.features[0]!.length}, not the ${width} columns of feature set ` +
        `"${profile.featureSet.name}" v${profile.featureSet.version} its reference profile describes`,
    );
  }
  const report = detectDrift(profile, {
    features: driftColumnsFromVectors(profile, rows),
    ...(profile.prediction === undefined ? {} : { prediction: scores }),
  });
  return {
    deployment: name,
    variant: variant.name,
    model: variant.model,
    version: variant.version,
    samples: BigInt(rows.length),
    features: report.features.map(toFeatureDrift),
    prediction: report.prediction === undefined ? undefined : toFeatureDrift(report.prediction),
    drifted: report.drifted,
    correction: report.options.correction,
    windowStart: new Date(window.fromMs),
    windowEnd: new Date(window.toMs),
  };
}
