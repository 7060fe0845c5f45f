import { registry } from '@slipway/contracts';
import { asc, eq, lte } from 'drizzle-orm';
import type { RegistryDatabase } from '../db/open-database.js';
import { endpoints } from '../db/schema.js';
import { readTransaction, writeTransaction, type Executor } from '../db/transactions.js';
import type { AuditLog } from './audit-log.js';
import type { ChangeLog, ChangeRecord } from './change-log.js';
import { endpointFromRow, endpointToJson, labelsToJson, loadedVersionsToJson } from './mappers.js';
import { resourceNameProblem, workerIdProblem } from './names.js';
import { invalidArgument } from './problems.js';

const KNOWN_STATES = new Set<number>([
  registry.LoadState.LOAD_STATE_LOADING,
  registry.LoadState.LOAD_STATE_READY,
  registry.LoadState.LOAD_STATE_FAILED,
]);

/** Lease lengths in seconds. */
export interface LeaseBounds {
  /** Default 2. */
  minSeconds: number;
  /** Default 60. */
  maxSeconds: number;
  /** Used when a heartbeat asks for 0. Default 10. */
  defaultSeconds: number;
}

/** Default lease bounds: 2 s to 60 s, 10 s when unspecified. */
export const DEFAULT_LEASE_BOUNDS: LeaseBounds = { minSeconds: 2, maxSeconds: 60, defaultSeconds: 10 };

/** `HeartbeatRequest` plus the clock. */
export interface HeartbeatInput {
  workerId: string;
  /** host:port of the worker's Open Inference Protocol server. */
  address: string;
  versions?: readonly registry.LoadedVersion[];
  labels?: Record<string, string>;
  /** Requested lease; clamped to the bounds, 0 = default. */
  ttlSeconds?: number;
  /** Defaults to the registry clock. */
  now?: Date;
  /** Audit actor when this heartbeat registers a new worker; default `worker:<workerId>`. */
  actor?: string;
  traceId?: string;
}

/** `HeartbeatResponse` plus whether watchers were told. */
export interface HeartbeatResult {
  leaseExpiresAt: Date;
  /** The registry revision after this heartbeat. */
  revision: bigint;
  /** True when the heartbeat wrote a change (new worker, or its address, labels or versions changed). */
  changed: boolean;
}

/** Worker endpoints with leases. */
export interface Endpoints {
  /**
   * Registers or refreshes a worker. Every heartbeat extends the lease; only a new worker or a
   * change of address, labels, or the set or state of loaded versions writes a revision. New
   * workers are audited; refreshes are not (too frequent).
   */
  heartbeat(input: HeartbeatInput): HeartbeatResult;
  /** Removes a worker at once (clean shutdown); audited. `removed` is false if it was not registered. */
  deregister(
    workerId: string,
    context?: { actor?: string; traceId?: string; reason?: string },
  ): { removed: boolean; revision: bigint };
  /** Removes every worker whose lease ended at or before `now`, one audited revision each. */
  expire(now?: Date): { expired: string[]; revision: bigint };
  /** Every registered worker by id, with the registry revision they are consistent with. */
  list(): { endpoints: registry.WorkerEndpoint[]; revision: bigint };
}

/** Options of {@link createEndpoints}. */
export interface EndpointsOptions {
  database: RegistryDatabase;
  changeLog: ChangeLog;
  audit: AuditLog;
  now: () => Date;
  lease?: Partial<LeaseBounds>;
  /** Called after each committed change, outside the transaction (the watch hub's publish). */
  onCommit?: (changes: readonly ChangeRecord[]) => void;
}

/** Creates the endpoints module. */
export function createEndpoints(options: EndpointsOptions): Endpoints {
  const { database, changeLog, audit, now } = options;
  const bounds = { ...DEFAULT_LEASE_BOUNDS, ...options.lease };
  if (!(
    bounds.minSeconds > 0 &&
    bounds.minSeconds <= bounds.defaultSeconds &&
    bounds.defaultSeconds <= bounds.maxSeconds
  )) {
    throw new RangeError(
      `lease bounds must satisfy 0 < min <= default <= max, got ${JSON.stringify(bounds)}`,
    );
  }
  const onCommit = options.onCommit ?? (() => undefined);

  const remove = (
    tx: Executor,
    workerId: string,
    action: string,
    actor: string,
    extra: { reason?: string; traceId?: string },
  ) => {
    const row = tx.select().from(endpoints).where(eq(endpoints.workerId, workerId)).get();
    if (!row) return undefined;
    tx.delete(endpoints).where(eq(endpoints.workerId, workerId)).run();
    const revision = changeLog.nextRevision(tx);
    const change = changeLog.append(tx, { revision, kind: 'endpoint', key: workerId, payloadJson: null });
    audit.append(tx, {
      actor,
      action,
      target: `endpoint/${workerId}`,
      before: registry.WorkerEndpoint.toJSON(endpointFromRow(row)),
      reason: extra.reason,
      traceId: extra.traceId,
    });
    return change;
  };

  return {
    heartbeat(input) {
      const versions = (input.versions ?? []).map((v) => registry.LoadedVersion.fromPartial(v));
      const labels = input.labels ?? {};
      const problems = heartbeatProblems(input.workerId, input.address, versions, labels);
      if (problems.length > 0)
        throw invalidArgument(`heartbeat of worker "${input.workerId}" is invalid`, problems);

      const time = input.now ?? now();
      const requested = input.ttlSeconds && input.ttlSeconds > 0 ? input.ttlSeconds : bounds.defaultSeconds;
      const ttl = Math.min(Math.max(requested, bounds.minSeconds), bounds.maxSeconds);
      const leaseExpiresAt = new Date(time.getTime() + ttl * 1000);
      const versionsJson = loadedVersionsToJson(versions);
      const labelsJson = labelsToJson(labels);

      const read = database.db.select().from(endpoints).where(eq(endpoints.workerId, input.workerId)).get();
      const isNew = read === undefined;
      const run = (tx: Executor): { change: ChangeRecord | undefined; revision: bigint } => {
        const existing = tx.select().from(endpoints).where(eq(endpoints.workerId, input.workerId)).get();
        const row = {
          workerId: input.workerId,
          address: input.address,
          versionsJson,
          labelsJson,
          leaseExpiresAt: leaseExpiresAt.toISOString(),
          registeredAt: existing?.registeredAt ?? time.toISOString(),
          lastHeartbeatAt: time.toISOString(),
        };
        tx.insert(endpoints).values(row).onConflictDoUpdate({ target: endpoints.workerId, set: row }).run();
        const changed =
          !existing ||
          existing.address !== row.address ||
          existing.versionsJson !== row.versionsJson ||
          existing.labelsJson !== row.labelsJson;
        if (!changed) return { change: undefined, revision: changeLog.currentRevision(tx) };
        const endpoint = endpointFromRow(row);
        const revision = changeLog.nextRevision(tx);
        const change = changeLog.append(tx, {
          revision,
          kind: 'endpoint',
          key: input.workerId,
          payloadJson: endpointToJson(endpoint),
        });
        if (!existing) {
          audit.append(tx, {
            actor: input.actor ?? `worker:${input.workerId}`,
            action: 'endpoint.register',
            target: `endpoint/${input.workerId}`,
            after: registry.WorkerEndpoint.toJSON(endpoint),
            traceId: input.traceId,
          });
        }
        return { change, revision };
      };
      // Registration is audited, so it commits durably; refreshes need not survive a power cut.
      const { change, revision } = writeTransaction(database, run, { durable: isNew });
      if (change) onCommit([change]);
      return { leaseExpiresAt, revision, changed: change !== undefined };
    },

    deregister(workerId, context = {}) {
      const change = writeTransaction(
        database,
        (tx) => remove(tx, workerId, 'endpoint.deregister', context.actor ?? `worker:${workerId}`, context),
        {
          durable: true,
        },
      );
      if (change) onCommit([change]);
      return { removed: change !== undefined, revision: change?.revision ?? changeLog.currentRevision() };
    },

    expire(at = now()) {
      const cutoff = at.toISOString();
      const due = database.db
        .select({ workerId: endpoints.workerId })
        .from(endpoints)
        .where(lte(endpoints.leaseExpiresAt, cutoff))
        .orderBy(asc(endpoints.workerId))
        .all();
      if (due.length === 0) return { expired: [], revision: changeLog.currentRevision() };
      const removed = writeTransaction(
        database,
        (tx) => {
          const out: ChangeRecord[] = [];
          for (const { workerId } of due) {
            // Re-check under the write lock: a heartbeat may have renewed the lease meanwhile.
            const row = tx
              .select({ lease: endpoints.leaseExpiresAt })
              .from(endpoints)
              .where(eq(endpoints.workerId, workerId))
              .get();
            if (!row || row.lease > cutoff) continue;
            const change = remove(tx, workerId, 'endpoint.expire', 'registry', {
              reason: `lease expired at ${row.lease}`,
            });
            if (change) out.push(change);
          }
          return out;
        },
        { durable: true },
      );
      if (removed.length > 0) onCommit(removed);
      return {
        expired: removed.map((c) => c.key),
        revision: removed.at(-1)?.revision ?? changeLog.currentRevision(),
      };
    },

    list() {
      return readTransaction(database, (tx) => ({
        endpoints: tx.select().from(endpoints).orderBy(asc(endpoints.workerId)).all().map(endpointFromRow),
        revision: changeLog.currentRevision(tx),
      }));
    },
  };
}

function heartbeatProblems(
  workerId: string,
  address: string,
  versions: readonly registry.LoadedVersion[],
  labels: Record<string, string>,
): string[] {
  const problems: string[] = [];
  const workerProblem = workerIdProblem(workerId);
  if (workerProblem) problems.push(workerProblem);
  if (!/^\S+:\d{1,5}$/.test(address)) problems.push(`address "${address}" is not host:port`);
  const seen = new Set<string>();
  for (const v of versions) {
    const id = `${v.model}@${v.version}`;
    const modelProblem = resourceNameProblem('model', v.model);
    if (modelProblem) problems.push(`loaded version ${id}: ${modelProblem}`);
    if (!Number.isInteger(v.version) || v.version < 1)
      problems.push(`loaded version ${id}: version must be 1 or more`);
    if (!KNOWN_STATES.has(v.state))
      problems.push(`loaded version ${id}: state is missing (use LOADING, READY or FAILED)`);
    if (seen.has(id)) problems.push(`loaded version ${id} is reported twice`);
    seen.add(id);
  }
  for (const key of Object.keys(labels)) if (key.trim() === '') problems.push('label keys must not be blank');
  return problems;
}
