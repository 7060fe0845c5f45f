import { registry, type monitor } from '@slipway/contracts';
import { FailedPreconditionError, InvalidArgumentError } from '@slipway/errors';
import { compareShadow, createQuantileSketch, type ShadowDisagreement } from '@slipway/monitoring';
import type { ParentCall } from '@slipway/service-kit';
import type { RegistryLookup } from '../services/registry-lookup.js';
import type { MonitorStore, ShadowPairRow } from '../store/monitor-store.js';
import { assertKnownDeployment, decisionThreshold, variantWithRole } from './deployments.js';
import { formatSeconds, requireName, windowEndingAt } from './window.js';

/** GetShadowReport's window when the request names none: one hour. */
export const DEFAULT_SHADOW_WINDOW_SECONDS = 3_600;
/** Disagreement examples when the request names none. */
export const DEFAULT_SHADOW_EXAMPLES = 5;
/** Most disagreement examples one report returns. */
export const MAX_SHADOW_EXAMPLES = 1_000;

/** Options of {@link getShadowReport}. */
export interface ShadowContext {
  readonly store: MonitorStore;
  readonly lookup: RegistryLookup | undefined;
  readonly nowMs: number;
  readonly parent?: ParentCall;
}

interface Example extends ShadowDisagreement {
  readonly primaryScore: number;
  readonly shadowScore: number;
}

/**
 * Shadow predictions of a deployment over [now − window, now) paired with their primary (same
 * request id, both answered) and compared score by score (the first output): agreement on the
 * side of the decision threshold, mean and largest absolute difference, latency percentiles of
 * both sides over the same requests, and the largest differences. When records hold more than
 * one shadow variant, the registry's current shadow is reported (else the busiest one).
 *
 * @throws NotFoundError when the monitor never saw the deployment.
 * @throws FailedPreconditionError when the window has no shadow predictions.
 */
export async function getShadowReport(
  ctx: ShadowContext,
  request: monitor.GetShadowReportRequest,
): Promise<monitor.GetShadowReportResponse> {
  const name = requireName(request.deployment, 'deployment', 'GetShadowReport');
  if (request.examples > MAX_SHADOW_EXAMPLES) {
    throw new InvalidArgumentError(
      `GetShadowReport: examples ${request.examples} is above the maximum ${MAX_SHADOW_EXAMPLES}`,
    );
  }
  const examples = request.examples === 0 ? DEFAULT_SHADOW_EXAMPLES : request.examples;
  const window = windowEndingAt(ctx.nowMs, request.windowSeconds, DEFAULT_SHADOW_WINDOW_SECONDS);
  const range = { deployment: name, fromMs: window.fromMs, toMs: window.toMs };
  const counts = await ctx.store.shadowCounts(range);
  if (counts.size === 0) {
    await assertKnownDeployment(ctx.store, name);
    throw new FailedPreconditionError(
      `deployment "${name}" has no shadow predictions in the last ${formatSeconds(window.seconds)}; ` +
        `start a shadow with \`slipway shadow start ${name} --version <n>\` or widen the window`,
    );
  }
  const deployment = await ctx.lookup?.deployment(name, ctx.parent);
  const threshold = decisionThreshold(deployment);
  const current = variantWithRole(deployment, registry.VariantRole.VARIANT_ROLE_SHADOW)?.name;
  const shadowVariant =
    current !== undefined && counts.has(current)
      ? current
      : [...counts].sort(([a, n], [b, m]) => m - n || a.localeCompare(b))[0]![0];

  let pairs = 0;
  let agreeing = 0;
  let differenceSum = 0;
  let maxDifference = 0;
  let top: Example[] = [];
  const primaries = new Map<string, number>();
  const primaryLatency = createQuantileSketch();
  const shadowLatency = createQuantileSketch();
  const addLatency = (sketch: typeof primaryLatency, ms: number): void => {
    if (Number.isFinite(ms) && ms >= 0) sketch.add(ms);
  };
  await ctx.store.shadowPairs(range, (batch) => {
    const rows: ShadowPairRow[] = batch.filter(
      (p) =>
        p.shadowVariant === shadowVariant && !Number.isNaN(p.primaryScore) && !Number.isNaN(p.shadowScore),
    );
    if (rows.length === 0) return;
    const report = compareShadow(
      rows.map((p) => ({ primary: p.primaryScore, shadow: p.shadowScore, id: p.requestId })),
      { threshold, topK: examples },
    );
    pairs += report.count;
    agreeing += Math.round(report.agreementRate! * report.count);
    differenceSum += report.meanAbsoluteDifference! * report.count;
    maxDifference = Math.max(maxDifference, report.maxAbsoluteDifference!);
    const batchTop = report.topDisagreements.map((d) => ({
      ...d,
      primaryScore: rows[d.index]!.primaryScore,
      shadowScore: rows[d.index]!.shadowScore,
    }));
    // Batches come in time order, so on equal differences the earlier request stays first.
    top = [...top, ...batchTop]
      .sort((a, b) => b.absoluteDifference - a.absoluteDifference)
      .slice(0, examples);
    for (const p of rows) {
      primaries.set(p.primaryVariant, (primaries.get(p.primaryVariant) ?? 0) + 1);
      addLatency(primaryLatency, p.primaryLatencyMs);
      addLatency(shadowLatency, p.shadowLatencyMs);
    }
  });
  return {
    deployment: name,
    // Usually one (stable); during a canary the candidate's requests are mirrored too.
    primaryVariant: [...primaries]
      .sort(([a, n], [b, m]) => m - n || a.localeCompare(b))
      .map(([variant]) => variant)
      .join(', '),
    shadowVariant,
    pairs: BigInt(pairs),
    agreement: pairs === 0 ? NaN : agreeing / pairs,
    meanAbsDiff: pairs === 0 ? NaN : differenceSum / pairs,
    maxAbsDiff: pairs === 0 ? NaN : maxDifference,
    primaryP50Ms: primaryLatency.quantile(0.5) ?? NaN,
    primaryP99Ms: primaryLatency.quantile(0.99) ?? NaN,
    shadowP50Ms: shadowLatency.quantile(0.5) ?? NaN,
    shadowP99Ms: shadowLatency.quantile(0.99) ?? NaN,
    examples: top.map((d) => ({
      requestId: d.id ?? '',
      primaryScore: d.primaryScore,
      shadowScore: d.shadowScore,
    })),
    threshold,
  };
}
