import { asc, eq, gt, lte, sql } from 'drizzle-orm';
import type { RegistryDatabase } from '../db/open-database.js';
import { changes } from '../db/schema.js';
import { writeTransaction, type Executor } from '../db/transactions.js';

/** What a change is about. */
export type ChangeKind = 'deployment' | 'endpoint';

/** One committed change of the registry's watched state. */
export interface ChangeRecord {
  /** The registry revision this change created. */
  revision: bigint;
  kind: ChangeKind;
  /** Deployment name or worker id. */
  key: string;
  /** The new state as proto3 JSON; null when the thing was removed. */
  payloadJson: string | null;
  time: Date;
}

/** The registry revision counter and its retained history of changes. */
export interface ChangeLog {
  /** How many changes {@link compact} keeps. */
  readonly retention: number;
  /** The revision the next change will get; read inside the write transaction that appends it. */
  nextRevision(tx: Executor): bigint;
  /**
   * Records a change inside the caller's write transaction. `revision` must be
   * {@link nextRevision} of the same transaction (payloads embed their own revision).
   */
  append(
    tx: Executor,
    change: { revision: bigint; kind: ChangeKind; key: string; payloadJson: string | null },
  ): ChangeRecord;
  /** The latest revision (0 for a new registry). Never goes down, even after compaction. */
  currentRevision(executor?: Executor): bigint;
  /** Retained changes with revision greater than `afterRevision`, oldest first. */
  since(afterRevision: bigint, executor?: Executor): ChangeRecord[];
  /** Whether every change after `afterRevision` up to the current revision is still retained. */
  covers(afterRevision: bigint, executor?: Executor): boolean;
  /** Deletes all but the last {@link retention} changes. Returns how many were deleted. */
  compact(): number;
}

/** Options of {@link createChangeLog}. */
export interface ChangeLogOptions {
  database: RegistryDatabase;
  now: () => Date;
  /** Changes kept by compaction. Default 10000. */
  retention?: number;
}

type ChangeRow = typeof changes.$inferSelect;

/** Creates the change log over the `changes` table. */
export function createChangeLog(options: ChangeLogOptions): ChangeLog {
  const { database, now } = options;
  const retention = options.retention ?? 10_000;
  if (!Number.isSafeInteger(retention) || retention < 1)
    throw new RangeError(`change retention must be a positive integer, got ${retention}`);

  const currentRevision = (executor: Executor = database.db): bigint => {
    // AUTOINCREMENT's high-water mark survives deletion of every row, unlike max(revision).
    const row = executor.get<{ seq: number } | undefined>(
      sql`SELECT seq FROM sqlite_sequence WHERE name = 'changes'`,
    );
    return BigInt(row?.seq ?? 0);
  };

  return {
    retention,
    nextRevision: (tx) => currentRevision(tx) + 1n,
    append(tx, change) {
      const expected = currentRevision(tx) + 1n;
      if (change.revision !== expected) {
        throw new Error(
          `change revision ${change.revision} is not the next revision ${expected}: append it in the transaction that read it`,
        );
      }
      const row: ChangeRow = {
        revision: Number(change.revision),
        kind: change.kind,
        key: change.key,
        payloadJson: change.payloadJson,
        time: now().toISOString(),
      };
      tx.insert(changes).values(row).run();
      return fromRow(row);
    },
    currentRevision,
    since(afterRevision, executor = database.db) {
      return executor
        .select()
        .from(changes)
        .where(gt(changes.revision, Number(afterRevision)))
        .orderBy(asc(changes.revision))
        .all()
        .map(fromRow);
    },
    covers(afterRevision, executor = database.db) {
      if (afterRevision >= currentRevision(executor)) return true;
      // Revisions are contiguous (assigned as current + 1 under the write lock) and compaction
      // removes a prefix, so the first revision after afterRevision being present means all are.
      const next = executor
        .select({ revision: changes.revision })
        .from(changes)
        .where(eq(changes.revision, Number(afterRevision + 1n)))
        .get();
      return next !== undefined;
    },
    compact() {
      return writeTransaction(database, (tx) => {
        const keepFrom = currentRevision(tx) - BigInt(retention);
        if (keepFrom <= 0n) return 0;
        return tx
          .delete(changes)
          .where(lte(changes.revision, Number(keepFrom)))
          .run().changes;
      });
    },
  };
}

function fromRow(row: ChangeRow): ChangeRecord {
  return {
    revision: BigInt(row.revision),
    kind: row.kind,
    key: row.key,
    payloadJson: row.payloadJson,
    time: new Date(row.time),
  };
}
