import type { RunResult } from 'better-sqlite3';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type { RegistryDatabase } from './open-database.js';
import type * as schema from './schema.js';

/** Anything that runs queries synchronously: the database handle or a transaction on it. */
export type Executor = BaseSQLiteDatabase<'sync', RunResult, typeof schema>;

/** Options of {@link writeTransaction}. */
export interface WriteTransactionOptions {
  /**
   * Sync the WAL to disk at commit (`synchronous=FULL`) so the commit survives a power cut.
   * Set for every audited mutation; leave unset for lease refreshes.
   */
  durable?: boolean;
}

/**
 * Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken before the first read,
 * so a read-then-write (next version number, next revision, next audit seq) cannot interleave
 * with another connection's; a busy writer is waited for up to `busy_timeout`. `fn` must be
 * synchronous. Throws whatever `fn` throws, after rolling back.
 */
export function writeTransaction<T>(
  database: Pick<RegistryDatabase, 'db' | 'sqlite'>,
  fn: (tx: Executor) => T,
  options: WriteTransactionOptions = {},
): T {
  if (!options.durable) return database.db.transaction(fn, { behavior: 'immediate' });
  // synchronous is per connection and cannot change inside a transaction, so set it around one.
  database.sqlite.pragma('synchronous = FULL');
  try {
    return database.db.transaction(fn, { behavior: 'immediate' });
  } finally {
    database.sqlite.pragma('synchronous = NORMAL');
  }
}

/** Runs `fn` in a read transaction, so every query in it sees the same committed state. */
export function readTransaction<T>(database: Pick<RegistryDatabase, 'db'>, fn: (tx: Executor) => T): T {
  return database.db.transaction(fn, { behavior: 'deferred' });
}
