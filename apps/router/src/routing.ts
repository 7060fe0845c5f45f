import { registry } from '@slipway/contracts';
import { NotFoundError } from '@slipway/errors';
import { createRegistryWatcher, type RegistryWatcher } from '@slipway/registry-client';
import { createClient, type Logger } from '@slipway/service-kit';
import { createModelInfoCache, type ModelInfoCache } from './model-info.js';
import { createReplicaPool, type ReplicaPool } from './replicas.js';

/** Options of {@link createRouting}. */
export interface RoutingOptions {
  registryAddress: string;
  token?: string;
  routerId: string;
  /** Resolved once the server is bound: where clients reach this router. */
  advertiseAddress: () => string | undefined;
  heartbeatMs: number;
  ejectMs: number;
  maxMessageBytes: number;
  logger: Logger;
}

/**
 * The router's view of the desired and actual state: deployments and worker replicas from the
 * registry's watch, model version info, and this router's own registration. The registry is
 * never on the request path: everything a request needs is in memory, so serving continues on
 * the last known state while the registry is down.
 */
export interface Routing {
  readonly pool: ReplicaPool;
  readonly models: ModelInfoCache;
  readonly watcher: RegistryWatcher;
  /** The deployment by name. @throws NotFoundError */
  deployment(name: string): registry.Deployment;
  /** The highest deployment revision applied (reported to the registry for `slipway` to wait on). */
  appliedRevision(): bigint;
  /** True once the first registry snapshot has been applied. */
  synced(): boolean;
  close(): Promise<void>;
}

export function createRouting(options: RoutingOptions): Routing {
  const { logger } = options;
  const pool = createReplicaPool({
    ejectMs: options.ejectMs,
    maxMessageBytes: options.maxMessageBytes,
    logger,
  });
  const modelClient = createClient(registry.ModelServiceService, options.registryAddress, {
    token: options.token,
  });
  const endpoints = createClient(registry.EndpointServiceService, options.registryAddress, {
    token: options.token,
    retry: { maxAttempts: 1 },
  });
  const models = createModelInfoCache(modelClient, logger);
  let applied = 0n;
  let reported = -1n;
  let endpointsDirty = false;
  let heartbeatRunning = false;
  let closed = false;

  const heartbeat = async (): Promise<void> => {
    if (heartbeatRunning || closed) return;
    const address = options.advertiseAddress();
    if (!address) return;
    heartbeatRunning = true;
    const revision = applied;
    try {
      await endpoints.heartbeat(
        {
          workerId: options.routerId,
          address,
          versions: [],
          labels: { role: 'router', deployment_revision: String(revision) },
          ttlSeconds: Math.max(5, Math.ceil((3 * options.heartbeatMs) / 1000)),
        },
        { deadline: 2_000 },
      );
      reported = revision;
    } catch (err) {
      logger.debug({ err: (err as Error).message }, 'router heartbeat failed');
    } finally {
      heartbeatRunning = false;
    }
    // A change applied while the heartbeat was in flight is reported at once.
    if (applied !== reported && !closed) void heartbeat();
  };

  const onDeploymentsChanged = (): void => {
    const versions: Array<{ model: string; version: number }> = [];
    for (const d of watcher.state.deployments.values())
      for (const v of d.variants) versions.push({ model: v.model, version: v.version });
    models.prefetch(versions);
  };

  const watcher = createRegistryWatcher({
    address: options.registryAddress,
    token: options.token,
    logger,
    onEvent(event, state) {
      const change = event.event;
      if (!change) return;
      switch (change.$case) {
        case 'deployment':
          if (event.revision > applied) applied = event.revision;
          // Variants take effect at once: requests read the watcher's state directly.
          onDeploymentsChanged();
          if (state.synced) void heartbeat();
          break;
        case 'endpoint':
          // Endpoints change in bursts during a snapshot: rebuild once it is synced.
          endpointsDirty = true;
          if (state.synced) {
            pool.sync(state.endpoints.values());
            endpointsDirty = false;
          }
          break;
        case 'synced':
          if (event.revision > applied) applied = event.revision;
          if (endpointsDirty) pool.sync(state.endpoints.values());
          endpointsDirty = false;
          onDeploymentsChanged();
          void heartbeat();
          break;
        case 'reset':
          break;
      }
    },
  });
  const timer = setInterval(() => void heartbeat(), options.heartbeatMs);
  timer.unref();

  return {
    pool,
    models,
    watcher,
    deployment(name) {
      const d = watcher.state.deployments.get(name);
      if (!d) throw new NotFoundError(`deployment "${name}" not found`);
      return d;
    },
    appliedRevision: () => applied,
    synced: () => watcher.state.synced,
    async close() {
      closed = true;
      clearInterval(timer);
      watcher.close();
      await endpoints
        .deregister({ workerId: options.routerId }, { deadline: 2_000 })
        .catch((err: unknown) =>
          logger.debug({ err: (err as Error).message }, 'router deregistration failed'),
        );
      endpoints.close();
      modelClient.close();
      pool.close();
    },
  };
}
