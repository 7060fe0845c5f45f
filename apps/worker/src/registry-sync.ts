import path from 'node:path';
import { registry } from '@slipway/contracts';
import type { LoadedModel } from '@slipway/model-runtime';
import {
  createArtifactCache,
  createRegistryWatcher,
  type ArtifactCache,
  type RegistryWatcher,
} from '@slipway/registry-client';
import { createClient, type Logger, type ServiceClient } from '@slipway/service-kit';
import type { ModelTable, VersionState, VersionStatus } from './model-table.js';

/** A verified local artifact to load as one model version. */
export interface ArtifactSource {
  readonly name: string;
  readonly version: number;
  readonly path: string;
  readonly sha256: string;
}

/** Options of {@link startRegistrySync}. */
export interface RegistrySyncOptions {
  readonly table: ModelTable;
  /** Registry address, host:port. */
  readonly registryAddress: string;
  /** Bearer token with the deployer role (heartbeats and deregistration need it). */
  readonly token?: string | undefined;
  readonly workerId: string;
  /** host:port routers dial, reported in every heartbeat. */
  readonly advertiseAddress: string;
  /** Artifact cache directory (`<dataDir>/artifacts/<sha256>`). */
  readonly dataDir: string;
  /** Only load the variants of these deployments; undefined = every deployment. */
  readonly deployments?: readonly string[] | undefined;
  readonly heartbeatMs: number;
  readonly leaseTtlSeconds: number;
  /** Loads a downloaded, verified artifact (the runtime checks its sha256 again). */
  readonly loadModel: (source: ArtifactSource) => Promise<LoadedModel>;
  readonly logger: Logger;
  /** Backoff between retries of a failed version: first delay and cap. Default 2 s, 30 s. */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
}

/** A worker kept in line with the registry: assigned versions loaded, heartbeats sent. */
export interface RegistrySync {
  /** True once the assignment is known and every assigned version finished loading (or failed). */
  ready(): boolean;
  /** Stops watching and heartbeating, then deregisters the worker. Idempotent; never rejects. */
  close(): Promise<void>;
}

interface Assignment {
  readonly model: string;
  readonly version: number;
}

interface Failure {
  attempts: number;
  retryAt: number;
}

const LOAD_STATES: Readonly<Record<VersionState, registry.LoadState>> = {
  LOADING: registry.LoadState.LOAD_STATE_LOADING,
  READY: registry.LoadState.LOAD_STATE_READY,
  FAILED: registry.LoadState.LOAD_STATE_FAILED,
};

const DEREGISTER_DEADLINE_MS = 2_000;

const keyOf = (model: string, version: number): string => `${model}@${version}`;

/**
 * The versions a worker must hold: every variant, whatever its role, of every watched deployment
 * (only the deployments named in `filter`, when given).
 */
export function assignedVersions(
  deployments: Iterable<registry.Deployment>,
  filter?: readonly string[],
): Assignment[] {
  const wanted = new Map<string, Assignment>();
  for (const deployment of deployments) {
    if (filter && !filter.includes(deployment.name)) continue;
    for (const variant of deployment.variants) {
      wanted.set(keyOf(variant.model, variant.version), { model: variant.model, version: variant.version });
    }
  }
  return [...wanted.values()];
}

/** The heartbeat's view of the table. */
export function loadedVersions(statuses: readonly VersionStatus[]): registry.LoadedVersion[] {
  return statuses.map((s) => ({
    model: s.name,
    version: s.version,
    state: LOAD_STATES[s.state],
    error: s.error ?? '',
    artifactSha256: s.sha256 ?? '',
  }));
}

/**
 * Watches the registry's deployments and reconciles the model table toward them: downloads and
 * verifies each newly assigned version's artifact, loads it (it serves once READY), unloads
 * versions no longer assigned (after their in-flight requests), and retries failed versions with
 * exponential backoff, or at once when a deployment changes. Heartbeats report every version and
 * its state every `heartbeatMs`, and right after a state change. While the registry is
 * unreachable, the loaded versions keep serving; the watch resumes by itself.
 */
export function startRegistrySync(options: RegistrySyncOptions): RegistrySync {
  return new Sync(options);
}

class Sync implements RegistrySync {
  readonly #options: RegistrySyncOptions;
  readonly #log: Logger;
  readonly #table: ModelTable;
  readonly #watcher: RegistryWatcher;
  readonly #models: ServiceClient<typeof registry.ModelServiceService>;
  readonly #endpoints: ServiceClient<typeof registry.EndpointServiceService>;
  readonly #cache: ArtifactCache;
  readonly #failures = new Map<string, Failure>();
  readonly #stopListening: () => void;
  #reconciled = false;
  #reconcileQueued = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #beatAgain = false;
  #heartbeatFailing = false;
  #closing: Promise<void> | undefined;

  constructor(options: RegistrySyncOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: 'registry-sync' });
    this.#table = options.table;
    const clientOptions = { token: options.token };
    this.#models = createClient(registry.ModelServiceService, options.registryAddress, {
      ...clientOptions,
      defaultDeadlineMs: 10_000,
    });
    // A heartbeat is its own retry: the next one follows within heartbeatMs.
    this.#endpoints = createClient(registry.EndpointServiceService, options.registryAddress, {
      ...clientOptions,
      retry: { maxAttempts: 1 },
    });
    this.#cache = createArtifactCache({
      dir: path.join(options.dataDir, 'artifacts'),
      // Artifacts can be large: the download is bounded by progress, not a fixed deadline.
      download: (request) => this.#models.downloadArtifact(request, { deadline: Infinity }),
    });
    this.#watcher = createRegistryWatcher({
      address: options.registryAddress,
      token: options.token,
      logger: this.#log,
      onEvent: (event) => {
        if (event.event?.$case === 'deployment') {
          // A new revision is a reason to try failed versions again without waiting out the backoff.
          for (const failure of this.#failures.values()) failure.retryAt = 0;
        }
        this.#scheduleReconcile();
      },
    });
    this.#stopListening = this.#table.onChange(() => this.#scheduleHeartbeat(0));
    this.#scheduleHeartbeat(0);
  }

  ready(): boolean {
    return this.#reconciled && this.#table.settled();
  }

  #scheduleReconcile(): void {
    if (this.#reconcileQueued || this.#closing) return;
    this.#reconcileQueued = true;
    // A snapshot arrives as a burst of events: reconcile once after the burst.
    setImmediate(() => {
      this.#reconcileQueued = false;
      this.#reconcile();
    });
  }

  #reconcile(): void {
    // Between a reset and the next `synced`, the state is partial: acting on it would unload
    // versions that are still assigned.
    if (this.#closing || !this.#watcher.state.synced) return;
    const wanted = new Map(
      assignedVersions(this.#watcher.state.deployments.values(), this.#options.deployments).map((a) => [
        keyOf(a.model, a.version),
        a,
      ]),
    );
    const current = new Map(this.#table.list().map((s) => [keyOf(s.name, s.version), s]));
    for (const [key, status] of current) {
      if (wanted.has(key)) continue;
      this.#failures.delete(key);
      this.#log.info(
        { model: status.name, version: status.version },
        'version no longer assigned; unloading',
      );
      this.#table.unload(status.name, status.version).catch((err: unknown) => {
        this.#log.error({ err, model: status.name, version: status.version }, 'unloading failed');
      });
    }
    const now = Date.now();
    for (const [key, assignment] of wanted) {
      const status = current.get(key);
      const failure = this.#failures.get(key);
      if (!status || (status.state === 'FAILED' && (failure?.retryAt ?? 0) <= now)) this.#load(assignment);
    }
    for (const key of this.#failures.keys()) if (!wanted.has(key)) this.#failures.delete(key);
    this.#reconciled = true;
    this.#scheduleRetry();
  }

  #load(assignment: Assignment): void {
    const { model, version } = assignment;
    const key = keyOf(model, version);
    this.#log.info({ model, version }, 'loading assigned version');
    void this.#table
      .load(model, version, () => this.#fetchAndLoad(assignment))
      .then((status) => {
        if (this.#closing) return;
        if (status.state === 'READY') {
          this.#failures.delete(key);
          this.#log.info({ model, version, sha256: status.sha256 }, 'version ready');
          return;
        }
        if (!this.#watcherAssigns(key)) return;
        const attempts = (this.#failures.get(key)?.attempts ?? 0) + 1;
        const base = this.#options.retryBaseMs ?? 2_000;
        const delay = Math.min(this.#options.retryMaxMs ?? 30_000, base * 2 ** (attempts - 1));
        this.#failures.set(key, { attempts, retryAt: Date.now() + delay });
        this.#log.warn(
          { model, version, error: status.error, attempts, retryInMs: delay },
          'version failed to load',
        );
        this.#scheduleRetry();
      });
  }

  #watcherAssigns(key: string): boolean {
    return assignedVersions(this.#watcher.state.deployments.values(), this.#options.deployments).some(
      (a) => keyOf(a.model, a.version) === key,
    );
  }

  async #fetchAndLoad({ model, version }: Assignment): Promise<LoadedModel> {
    const found = await this.#models.getModelVersion({ model, version, alias: '' });
    const recorded = found.version;
    if (!recorded) throw new Error(`the registry returned no record for model "${model}" version ${version}`);
    const sha256 = recorded.artifactSha256;
    const path = await this.#cache.fetch({ model, version, sha256, size: Number(recorded.artifactSize) });
    return this.#options.loadModel({ name: model, version, path, sha256 });
  }

  #scheduleRetry(): void {
    clearTimeout(this.#retryTimer);
    if (this.#closing || this.#failures.size === 0) return;
    const next = Math.min(...[...this.#failures.values()].map((f) => f.retryAt));
    this.#retryTimer = setTimeout(() => this.#scheduleReconcile(), Math.max(0, next - Date.now()));
    this.#retryTimer.unref();
  }

  #scheduleHeartbeat(delayMs: number): void {
    if (this.#closing) return;
    if (this.#beating && delayMs === 0) {
      // The beat in flight may predate the change: send another as soon as it ends.
      this.#beatAgain = true;
      return;
    }
    clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = setTimeout(() => void this.#heartbeat(), delayMs);
    this.#heartbeatTimer.unref();
  }

  #heartbeat(): Promise<void> {
    if (this.#beating) {
      this.#beatAgain = true;
      return this.#beating;
    }
    this.#beating = this.#sendHeartbeat().finally(() => {
      this.#beating = undefined;
      const again = this.#beatAgain;
      this.#beatAgain = false;
      this.#scheduleHeartbeat(again ? 0 : this.#options.heartbeatMs);
    });
    return this.#beating;
  }

  async #sendHeartbeat(): Promise<void> {
    const { workerId, advertiseAddress, heartbeatMs, leaseTtlSeconds } = this.#options;
    try {
      await this.#endpoints.heartbeat(
        {
          workerId,
          address: advertiseAddress,
          versions: loadedVersions(this.#table.list()),
          labels: {},
          ttlSeconds: leaseTtlSeconds,
        },
        { deadline: Math.max(1_000, heartbeatMs) },
      );
      if (this.#heartbeatFailing) this.#log.info({ workerId }, 'heartbeats reach the registry again');
      this.#heartbeatFailing = false;
    } catch (err) {
      // Logged once per outage: serving continues on what is loaded.
      if (!this.#heartbeatFailing) {
        this.#log.warn(
          { err: (err as Error).message, workerId },
          'heartbeat failed; still serving loaded versions',
        );
      }
      this.#heartbeatFailing = true;
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopListening();
      clearTimeout(this.#retryTimer);
      clearTimeout(this.#heartbeatTimer);
      this.#watcher.close();
      await this.#beating;
      try {
        await this.#endpoints.deregister(
          { workerId: this.#options.workerId },
          { deadline: DEREGISTER_DEADLINE_MS },
        );
        this.#log.info({ workerId: this.#options.workerId }, 'deregistered from the registry');
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'could not deregister; the lease will expire');
      } finally {
        this.#endpoints.close();
        this.#models.close();
      }
    })();
    return this.#closing;
  }
}
