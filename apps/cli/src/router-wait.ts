import { setTimeout as sleep } from 'node:timers/promises';
import type { registry } from '@slipway/contracts';

/** Label a router puts on its heartbeat to tell it apart from workers. */
export const ROUTER_ROLE_LABEL = 'role';
/** Label holding the highest deployment revision a router has applied. */
export const ROUTER_REVISION_LABEL = 'deployment_revision';

/** A router as seen in the registry's endpoint list. */
export interface RouterState {
  /** Its worker id, `router:<id>`. */
  readonly id: string;
  readonly address: string;
  /** The highest deployment revision it reports as applied; undefined when it reports none. */
  readonly appliedRevision: bigint | undefined;
}

/** Where the routers stand relative to a revision. */
export interface RouterProgress {
  readonly routers: readonly RouterState[];
  /** Routers that have not applied the revision yet. */
  readonly lagging: readonly RouterState[];
}

/** The routers among the endpoints (labels.role == "router"), by worker id. */
export function routersOf(endpoints: readonly registry.WorkerEndpoint[]): RouterState[] {
  return endpoints
    .filter((e) => e.labels[ROUTER_ROLE_LABEL] === 'router')
    .map((e) => {
      const label = e.labels[ROUTER_REVISION_LABEL] ?? '';
      return {
        id: e.workerId,
        address: e.address,
        appliedRevision: /^\d+$/.test(label) ? BigInt(label) : undefined,
      };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** Which routers have not applied `revision` (no revision label counts as lagging). */
export function routerProgress(
  endpoints: readonly registry.WorkerEndpoint[],
  revision: bigint,
): RouterProgress {
  const routers = routersOf(endpoints);
  return {
    routers,
    lagging: routers.filter((r) => r.appliedRevision === undefined || r.appliedRevision < revision),
  };
}

/** Options of {@link waitForRouters}. */
export interface WaitForRoutersOptions {
  /** The registry's current endpoints (ListEndpoints). */
  list: () => Promise<readonly registry.WorkerEndpoint[]>;
  revision: bigint;
  timeoutMs: number;
  /** Default 50. */
  intervalMs?: number;
}

/** The progress at the end of {@link waitForRouters}. */
export interface WaitForRoutersResult extends RouterProgress {
  /** True when routers still lagged at the timeout. */
  readonly timedOut: boolean;
}

/**
 * Polls the endpoint list until every registered router reports `revision` or later (at once
 * when none is registered), or until the timeout; then returns where they stand.
 */
export async function waitForRouters(options: WaitForRoutersOptions): Promise<WaitForRoutersResult> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 50;
  for (;;) {
    const progress = routerProgress(await options.list(), options.revision);
    if (progress.lagging.length === 0) return { ...progress, timedOut: false };
    const left = deadline - Date.now();
    if (left <= 0) return { ...progress, timedOut: true };
    await sleep(Math.min(interval, left));
  }
}

/** `router:a (at 5), router:b (no revision reported)`. */
export function describeLagging(lagging: readonly RouterState[]): string {
  return lagging
    .map(
      (r) =>
        `${r.id} (${r.appliedRevision === undefined ? 'no revision reported' : `at ${r.appliedRevision}`})`,
    )
    .join(', ');
}
