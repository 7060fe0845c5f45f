import { fileURLToPath } from 'node:url';
import { openSqlite, type SqliteDatabase } from '@slipway/sqlite';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import * as schema from './schema.js';

/**
 * The committed migrations. `src/db/` and `dist/db/` sit at the same depth under the package
 * root, so one relative URL finds `apps/monitor/drizzle/` from sources (tests) and from the build.
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle/', import.meta.url));

/** The drizzle handle over the monitor's schema. */
export type MonitorDb = BetterSQLite3Database<typeof schema>;

/** An open monitor database. */
export type MonitorDatabase = SqliteDatabase<typeof schema>;

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Path of the SQLite file (its directory is created if missing), or `:memory:`. */
  file: string;
  /** How long a writer waits for another connection's write lock before failing. Default 5000. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the monitor database and applies pending migrations. `openSqlite`
 * sets WAL, `busy_timeout`, `foreign_keys` and `synchronous=NORMAL`; the monitor raises the
 * connection to `synchronous=FULL`. In WAL mode NORMAL already keeps every commit through a
 * process crash (SIGKILL: the WAL is in the OS page cache), but not through a power cut or kernel
 * panic. IngestPredictions promises that an acknowledged record is durable, and nearly every
 * write here is such an ingestion, so the WAL is fsynced at every commit (one fsync per chunk of
 * records, not per record).
 */
export function openDatabase(options: OpenDatabaseOptions): MonitorDatabase {
  const database = openSqlite({
    file: options.file,
    schema,
    migrationsFolder: MIGRATIONS_DIR,
    busyTimeoutMs: options.busyTimeoutMs,
  });
  database.sqlite.pragma('synchronous = FULL');
  return database;
}
