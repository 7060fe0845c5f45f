import type { registry } from '@slipway/contracts';
import { NotFoundError } from '@slipway/errors';
import type { MonitorStore } from '../store/monitor-store.js';

/** Class metrics use this threshold when the deployment sets none (decision_threshold 0). */
export const DEFAULT_DECISION_THRESHOLD = 0.5;

/**
 * Fails with NOT_FOUND when the monitor never stored a record of the deployment, naming the
 * deployments it knows: a typo should not read as "no traffic".
 */
export async function assertKnownDeployment(store: MonitorStore, deployment: string): Promise<void> {
  if (await store.hasDeployment(deployment)) return;
  const known = await store.deployments();
  throw new NotFoundError(
    `the monitor has no prediction records of deployment "${deployment}" ` +
      (known.length === 0
        ? '(it has none at all yet: are the routers configured with SLIPWAY_ROUTER_MONITOR_ADDR?)'
        : `(deployments with records: ${known.join(', ')})`),
  );
}

/** The deployment's decision threshold, {@link DEFAULT_DECISION_THRESHOLD} when unset or unknown. */
export function decisionThreshold(deployment: registry.Deployment | undefined): number {
  const threshold = deployment?.decisionThreshold ?? 0;
  return threshold > 0 ? threshold : DEFAULT_DECISION_THRESHOLD;
}

/** The first variant with the role, if any. */
export function variantWithRole(
  deployment: registry.Deployment | undefined,
  role: registry.VariantRole,
): registry.Variant | undefined {
  return deployment?.variants.find((v) => v.role === role);
}

/** `stable, candidate`: the variants of a deployment, for messages. */
export function variantNames(deployment: registry.Deployment): string {
  return deployment.variants.map((v) => v.name).join(', ') || 'none';
}
