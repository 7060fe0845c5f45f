import type { registry } from '@slipway/contracts';

/**
 * The watched desired state as a client holds it: deployments and worker endpoints by name, and
 * the revision they are consistent with. Apply every WatchResponse in order with {@link applyEvent}.
 */
export interface RegistryState {
  revision: bigint;
  /** True once the initial snapshot or replay is complete (a `synced` event arrived). */
  synced: boolean;
  readonly deployments: Map<string, registry.Deployment>;
  readonly endpoints: Map<string, registry.WorkerEndpoint>;
}

/** An empty state at revision 0. */
export function createRegistryState(): RegistryState {
  return { revision: 0n, synced: false, deployments: new Map(), endpoints: new Map() };
}

/** Applies one watch event in place; returns what kind of change it was. */
export function applyEvent(
  state: RegistryState,
  event: registry.WatchResponse,
): 'deployment' | 'endpoint' | 'synced' | 'reset' | 'none' {
  const change = event.event;
  if (!change) return 'none';
  switch (change.$case) {
    case 'reset':
      state.deployments.clear();
      state.endpoints.clear();
      state.synced = false;
      return 'reset';
    case 'synced':
      state.synced = true;
      if (event.revision > state.revision) state.revision = event.revision;
      return 'synced';
    case 'deployment': {
      const { name, deployment } = change.deployment;
      if (deployment) state.deployments.set(name, deployment);
      else state.deployments.delete(name);
      if (event.revision > state.revision) state.revision = event.revision;
      return 'deployment';
    }
    case 'endpoint': {
      const { workerId, endpoint } = change.endpoint;
      if (endpoint) state.endpoints.set(workerId, endpoint);
      else state.endpoints.delete(workerId);
      if (event.revision > state.revision) state.revision = event.revision;
      return 'endpoint';
    }
  }
}
