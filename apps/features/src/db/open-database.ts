import { fileURLToPath } from 'node:url';
import { openSqlite, type SqliteDatabase } from '@slipway/sqlite';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import * as schema from './schema.js';

/**
 * The committed migrations. `src/db/` and `dist/db/` sit at the same depth under the package
 * root, so one relative URL finds `apps/features/drizzle/` from sources (tests) and from the build.
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle/', import.meta.url));

/** The drizzle handle over the feature service's schema. */
export type FeaturesDb = BetterSQLite3Database<typeof schema>;

/** An open features database. */
export type FeaturesDatabase = SqliteDatabase<typeof schema>;

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Path of the SQLite file (its directory is created if missing), or `:memory:`. */
  file: string;
  /** How long a writer waits for another connection's write lock before failing. Default 5000. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the feature-service database and applies pending migrations (see
 * `openSqlite` for the pragmas). `synchronous=NORMAL`: a power cut may lose the last committed
 * batches, but feature writers replay from their source after a failure and every write is
 * idempotent, so an fsync per batch would buy nothing.
 */
export function openDatabase(options: OpenDatabaseOptions): FeaturesDatabase {
  return openSqlite({
    file: options.file,
    schema,
    migrationsFolder: MIGRATIONS_DIR,
    busyTimeoutMs: options.busyTimeoutMs,
  });
}
