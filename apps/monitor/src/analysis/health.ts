import type { monitor } from '@slipway/contracts';
import type { MonitorStore, Traffic } from '../store/monitor-store.js';
import { assertKnownDeployment } from './deployments.js';
import { requireName, windowEndingAt } from './window.js';

/** GetHealth's window when the request names none: one hour. */
export const DEFAULT_HEALTH_WINDOW_SECONDS = 3_600;

/** The health of one series over a window of `seconds`. */
export function variantHealth(t: Traffic, seconds: number): monitor.VariantHealth {
  return {
    variant: t.variant,
    model: t.model,
    version: t.version,
    shadow: t.shadow,
    requests: BigInt(t.requests),
    errors: BigInt(t.errors),
    errorRate: t.requests === 0 ? 0 : t.errors / t.requests,
    byStatus: Object.fromEntries(Object.entries(t.byStatus).map(([status, n]) => [status, BigInt(n)])),
    timeouts: BigInt(t.byStatus['DEADLINE_EXCEEDED'] ?? 0),
    requestsPerSecond: t.requests / seconds,
    p50Ms: t.latency.quantile(0.5) ?? 0,
    p95Ms: t.latency.quantile(0.95) ?? 0,
    p99Ms: t.latency.quantile(0.99) ?? 0,
  };
}

/**
 * Technical health per series (variant, model version, primary or shadow) of a deployment over
 * [now − window, now), from the per-minute rollups and, for the partial minutes at either end,
 * the records. Primary variants first, then by name and version.
 *
 * @throws InvalidArgumentError without a deployment.
 * @throws NotFoundError when the monitor never saw the deployment.
 */
export async function getHealth(
  store: MonitorStore,
  request: monitor.GetHealthRequest,
  nowMs: number,
): Promise<monitor.GetHealthResponse> {
  const deployment = requireName(request.deployment, 'deployment', 'GetHealth');
  const window = windowEndingAt(nowMs, request.windowSeconds, DEFAULT_HEALTH_WINDOW_SECONDS);
  const series = await store.traffic({ deployment, fromMs: window.fromMs, toMs: window.toMs });
  if (series.length === 0) await assertKnownDeployment(store, deployment);
  series.sort(
    (a, b) =>
      Number(a.shadow) - Number(b.shadow) ||
      a.variant.localeCompare(b.variant) ||
      a.model.localeCompare(b.model) ||
      a.version - b.version,
  );
  return {
    deployment,
    windowStart: new Date(window.fromMs),
    windowEnd: new Date(window.toMs),
    variants: series.map((t) => variantHealth(t, window.seconds)),
  };
}
