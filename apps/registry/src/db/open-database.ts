import { fileURLToPath } from 'node:url';
import { openSqlite, type SqliteDatabase } from '@slipway/sqlite';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import * as schema from './schema.js';

/**
 * The committed migrations. `src/db/` and `dist/db/` sit at the same depth under the package
 * root, so one relative URL finds `apps/registry/drizzle/` from sources (tests) and from the build.
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle/', import.meta.url));

/** The drizzle handle over the registry schema. */
export type RegistryDb = BetterSQLite3Database<typeof schema>;

/** An open registry database. */
export type RegistryDatabase = SqliteDatabase<typeof schema>;

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Path of the SQLite file (its directory is created if missing), or `:memory:`. */
  file: string;
  /** How long a writer waits for another connection's write lock before failing. Default 5000. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the registry database and applies pending migrations (see
 * `openSqlite` for the pragmas). `synchronous=NORMAL` may lose the last commits on a power cut:
 * fine for lease refreshes (the worker repeats them within seconds) but not for an acknowledged,
 * audited mutation such as a promote, so {@link writeTransaction} raises the connection to FULL for
 * audited transactions only (see `durable` there).
 */
export function openDatabase(options: OpenDatabaseOptions): RegistryDatabase {
  return openSqlite({
    file: options.file,
    schema,
    migrationsFolder: MIGRATIONS_DIR,
    busyTimeoutMs: options.busyTimeoutMs,
  });
}
