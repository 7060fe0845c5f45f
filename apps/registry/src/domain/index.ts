import type { RegistryDatabase } from '../db/open-database.js';
import { readTransaction } from '../db/transactions.js';
import { createArtifactStore, type ArtifactStore } from './artifact-store.js';
import { createAuditLog, type AuditLog } from './audit-log.js';
import { createBatchSchedules, type BatchSchedules } from './batch-schedules.js';
import { createChangeLog, type ChangeLog } from './change-log.js';
import { createDeployments, type Deployments } from './deployments.js';
import { createEndpoints, type Endpoints, type LeaseBounds } from './endpoints.js';
import { createModelRegistry, type ModelRegistry } from './model-registry.js';
import { createWatchHub, type WatchHub, type WatchSnapshot } from './watch-hub.js';

export * from './artifact-store.js';
export * from './audit-log.js';
export * from './batch-schedules.js';
export * from './change-log.js';
export * from './deployments.js';
export * from './endpoints.js';
export * from '@slipway/errors';
export * from './model-registry.js';
export * from './names.js';
export type { ModelSignatureLike, TensorSignatureLike } from './mappers.js';
export * from './watch-hub.js';

/** Options of {@link createRegistryDomain}. */
export interface RegistryDomainOptions {
  /** Data directory; artifacts live under `<dataDir>/artifacts/`. */
  dataDir: string;
  /** The open database (see `openDatabase`); the caller owns and closes it. */
  db: RegistryDatabase;
  /** Clock; default `() => new Date()`. */
  now?: () => Date;
  /** Changes kept for resuming watches. Default 10000. */
  watchRetention?: number;
  /** Lease bounds for worker heartbeats and batch runs. */
  lease?: Partial<LeaseBounds>;
}

/** The registry's domain: every module over one database and one data directory. */
export interface RegistryDomain {
  readonly artifacts: ArtifactStore;
  readonly audit: AuditLog;
  readonly models: ModelRegistry;
  readonly deployments: Deployments;
  readonly endpoints: Endpoints;
  /** Batch schedules and their runs, leased to batch workers. */
  readonly batch: BatchSchedules;
  readonly changes: ChangeLog;
  readonly watch: WatchHub;
  /** The full watched state at one revision, read in one transaction. */
  snapshot(): WatchSnapshot;
  /**
   * Housekeeping for a timer in main: expires lapsed leases, then compacts the change log.
   * Returns what it did.
   */
  maintain(now?: Date): { expired: string[]; compacted: number };
  /** Ends every watch. Idempotent; the database stays open (its owner closes it). */
  shutdown(): void;
}

/** Builds the registry domain. */
export function createRegistryDomain(options: RegistryDomainOptions): RegistryDomain {
  const now = options.now ?? (() => new Date());
  const database = options.db;
  const artifacts = createArtifactStore({ dataDir: options.dataDir });
  const audit = createAuditLog({ database, now });
  const changes = createChangeLog({ database, now, retention: options.watchRetention });
  const models = createModelRegistry({ database, artifacts, audit, now });

  // The hub needs the modules for snapshots and they publish through it; the closure only runs
  // after a commit, by which time `watch` below is initialised.
  const onCommit = (committed: Parameters<WatchHub['publish']>[0]): void => watch.publish(committed);
  const deployments = createDeployments({ database, changeLog: changes, audit, now, onCommit });
  const endpoints = createEndpoints({
    database,
    changeLog: changes,
    audit,
    now,
    lease: options.lease,
    onCommit,
  });

  const batch = createBatchSchedules({ database, audit, now, lease: options.lease });

  const snapshot = (): WatchSnapshot =>
    readTransaction(database, () => {
      const d = deployments.listDeployments();
      return { revision: d.revision, deployments: d.deployments, endpoints: endpoints.list().endpoints };
    });
  const watch = createWatchHub(changes, snapshot);

  return {
    artifacts,
    audit,
    models,
    deployments,
    endpoints,
    batch,
    changes,
    watch,
    snapshot,
    maintain(at) {
      const { expired } = endpoints.expire(at ?? now());
      return { expired, compacted: changes.compact() };
    },
    shutdown() {
      watch.close();
    },
  };
}
