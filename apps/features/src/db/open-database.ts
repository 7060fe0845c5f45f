import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';

/**
 * The committed migrations. `src/db/` and `dist/db/` sit at the same depth under the package
 * root, so one relative URL finds `apps/features/drizzle/` from sources (tests) and from the build.
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle/', import.meta.url));

/** The drizzle handle over the feature service's schema. */
export type FeaturesDb = BetterSQLite3Database<typeof schema>;

/** An open feature-service database. */
export interface FeaturesDatabase {
  /** Typed query builder. */
  readonly db: FeaturesDb;
  /** The underlying connection, for pragmas and transaction control. */
  readonly sqlite: Database.Database;
  /** Closes the connection. Idempotent. */
  close(): void;
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Path of the SQLite file (its directory is created if missing), or `:memory:`. */
  file: string;
  /** How long a writer waits for another connection's write lock before failing. Default 5000. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the database and applies pending migrations.
 *
 * Pragmas: WAL (online reads never wait for a write batch), `busy_timeout`, and
 * `synchronous=NORMAL`: a power cut may lose the last committed batches but never corrupts the
 * file. Feature writers replay from their source after a failure, and every write is idempotent,
 * so an fsync per batch would buy nothing.
 */
export function openDatabase(options: OpenDatabaseOptions): FeaturesDatabase {
  if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
  const sqlite = new Database(options.file);
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    const db = drizzle({ client: sqlite, schema });
    applyMigrations(db);
    let closed = false;
    return {
      db,
      sqlite,
      close() {
        if (closed) return;
        closed = true;
        sqlite.close();
      },
    };
  } catch (err) {
    sqlite.close();
    throw err;
  }
}

function applyMigrations(db: FeaturesDb): void {
  try {
    migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  } catch (err) {
    // drizzle's migrator reads the applied set before its BEGIN, so two processes starting on a
    // fresh file can both try the same migration; the loser fails on "table exists". A second
    // pass sees the winner's work and has nothing left to do; a genuine failure fails again.
    try {
      migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    } catch {
      throw err;
    }
  }
}
