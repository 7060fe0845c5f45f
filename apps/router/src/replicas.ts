import { inference, registry } from '@slipway/contracts';
import { UnavailableError } from '@slipway/errors';
import { createClient, type Logger, type ParentCall, type ServiceClient } from '@slipway/service-kit';

type InferenceClient = ServiceClient<typeof inference.GRPCInferenceServiceService>;

/** One worker replica as the router sees it. */
interface Replica {
  readonly workerId: string;
  readonly address: string;
  readonly client: InferenceClient;
  /** Calls sent and not yet answered. */
  outstanding: number;
  /** Skipped until this time (ms) after it failed with UNAVAILABLE. */
  ejectedUntil: number;
}

/** Options of {@link createReplicaPool}. */
export interface ReplicaPoolOptions {
  /** How long a replica that answered UNAVAILABLE (or could not be reached) is skipped. */
  ejectMs: number;
  maxMessageBytes: number;
  logger: Logger;
}

/** What one inference call went to. */
export interface InferOutcome {
  readonly response: inference.ModelInferResponse;
  readonly workerId: string;
  /** 1 normally, 2 when the first replica failed and another answered. */
  readonly attempts: number;
}

/**
 * The worker replicas known from the registry and a client to each. Routes a call for a model
 * version to the replica with the fewest outstanding calls among those that report that exact
 * version READY; when the call fails with UNAVAILABLE (a dead or draining replica, a broken
 * connection), the replica is skipped for a while and the call is retried once on another
 * replica, within the caller's deadline.
 */
export interface ReplicaPool {
  /** Replaces the known replicas with the registry's endpoints. */
  sync(endpoints: Iterable<registry.WorkerEndpoint>): void;
  /** Whether any replica has `model@version` READY. */
  hasReady(model: string, version: number): boolean;
  /** Replica ids with `model@version` READY. */
  readyReplicas(model: string, version: number): string[];
  infer(
    model: string,
    version: number,
    request: inference.ModelInferRequest,
    parent: ParentCall,
  ): Promise<InferOutcome>;
  /** Forwards ModelMetadata to a replica holding the version. */
  metadata(model: string, version: number, parent: ParentCall): Promise<inference.ModelMetadataResponse>;
  close(): void;
}

const keyOf = (model: string, version: number): string => `${model}@${version}`;

/** Whether an endpoint is a router's registration rather than a worker's. */
export function isRouterEndpoint(endpoint: registry.WorkerEndpoint): boolean {
  return endpoint.labels['role'] === 'router';
}

export function createReplicaPool(options: ReplicaPoolOptions): ReplicaPool {
  const replicas = new Map<string, Replica>();
  /** model@version → replicas with it READY. */
  let ready = new Map<string, Replica[]>();
  let rotation = 0;

  const pick = (candidates: readonly Replica[], exclude?: Replica): Replica | undefined => {
    const now = Date.now();
    let best: Replica | undefined;
    let fallback: Replica | undefined;
    const n = candidates.length;
    // Start at a rotating offset so ties spread over the replicas.
    const start = rotation++ % Math.max(1, n);
    for (let i = 0; i < n; i++) {
      const r = candidates[(start + i) % n]!;
      if (r === exclude) continue;
      if (r.ejectedUntil > now) {
        if (!fallback || r.outstanding < fallback.outstanding) fallback = r;
        continue;
      }
      if (!best || r.outstanding < best.outstanding) best = r;
    }
    // Every replica ejected: try one anyway rather than fail without trying.
    return best ?? fallback;
  };

  const call = async (
    replica: Replica,
    request: inference.ModelInferRequest,
    parent: ParentCall,
  ): Promise<inference.ModelInferResponse> => {
    replica.outstanding++;
    try {
      return await replica.client.modelInfer(request, { parent });
    } finally {
      replica.outstanding--;
    }
  };

  const isUnavailable = (err: unknown): boolean => (err as { code?: number }).code === 14;

  return {
    sync(endpoints) {
      const seen = new Set<string>();
      const next = new Map<string, Replica[]>();
      for (const endpoint of endpoints) {
        if (isRouterEndpoint(endpoint) || !endpoint.address) continue;
        seen.add(endpoint.workerId);
        let replica = replicas.get(endpoint.workerId);
        if (replica && replica.address !== endpoint.address) {
          replica.client.close();
          replica = undefined;
        }
        if (!replica) {
          replica = {
            workerId: endpoint.workerId,
            address: endpoint.address,
            client: createClient(inference.GRPCInferenceServiceService, endpoint.address, {
              // The pool retries on another replica itself.
              retry: { maxAttempts: 1 },
              maxMessageBytes: options.maxMessageBytes,
            }),
            outstanding: 0,
            ejectedUntil: 0,
          };
          replicas.set(endpoint.workerId, replica);
        }
        for (const v of endpoint.versions) {
          if (v.state !== registry.LoadState.LOAD_STATE_READY) continue;
          const key = keyOf(v.model, v.version);
          const list = next.get(key);
          if (list) list.push(replica);
          else next.set(key, [replica]);
        }
      }
      for (const [id, replica] of replicas) {
        if (seen.has(id)) continue;
        replicas.delete(id);
        // In-flight calls finish on their own; grpc-js closes the channel once they are done.
        replica.client.close();
      }
      ready = next;
    },
    hasReady(model, version) {
      return (ready.get(keyOf(model, version))?.length ?? 0) > 0;
    },
    readyReplicas(model, version) {
      return (ready.get(keyOf(model, version)) ?? []).map((r) => r.workerId);
    },
    async infer(model, version, request, parent) {
      const candidates = ready.get(keyOf(model, version)) ?? [];
      const first = pick(candidates);
      if (!first) throw new UnavailableError(`no replica has ${model}@${version} ready`);
      try {
        return { response: await call(first, request, parent), workerId: first.workerId, attempts: 1 };
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        first.ejectedUntil = Date.now() + options.ejectMs;
        const second = pick(ready.get(keyOf(model, version)) ?? [], first);
        if (!second) throw err;
        options.logger.debug(
          { model, version, failed: first.workerId, retry: second.workerId, err: (err as Error).message },
          'replica unavailable; retrying on another',
        );
        return { response: await call(second, request, parent), workerId: second.workerId, attempts: 2 };
      }
    },
    async metadata(model, version, parent) {
      const replica = pick(ready.get(keyOf(model, version)) ?? []);
      if (!replica) throw new UnavailableError(`no replica has ${model}@${version} ready`);
      return replica.client.modelMetadata({ name: model, version: String(version) }, { parent });
    },
    close() {
      for (const replica of replicas.values()) replica.client.close();
      replicas.clear();
      ready = new Map();
    },
  };
}
