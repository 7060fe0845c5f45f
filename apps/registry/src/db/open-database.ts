import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';

/**
 * The committed migrations. `src/db/` and `dist/db/` sit at the same depth under the package
 * root, so one relative URL finds `apps/registry/drizzle/` from sources (tests) and from the build.
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle/', import.meta.url));

/** The drizzle handle over the registry schema. */
export type RegistryDb = BetterSQLite3Database<typeof schema>;

/** An open registry database. */
export interface RegistryDatabase {
  /** Typed query builder. */
  readonly db: RegistryDb;
  /** The underlying connection, for pragmas, raw statements and transaction control. */
  readonly sqlite: Database.Database;
  /** Closes the connection. Idempotent. */
  close(): void;
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Path of the SQLite file; its directory is created if missing. */
  file: string;
  /** How long a writer waits for another connection's write lock before failing. Default 5000. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the registry database and applies pending migrations.
 *
 * Pragmas: WAL (readers never block the writer), `foreign_keys=ON`, `busy_timeout` (several
 * connections, e.g. two processes, queue for the write lock instead of failing at once), and
 * `synchronous=NORMAL`. In WAL mode NORMAL never corrupts the database, but a power cut may lose
 * the last commits. That is fine for lease refreshes (the worker repeats them within seconds) but
 * not for an acknowledged, audited mutation such as a promote, so {@link writeTransaction} raises
 * the connection to FULL for audited transactions only (see `durable` there). Syncing every
 * heartbeat would cost an fsync per worker per few seconds for nothing.
 */
export function openDatabase(options: OpenDatabaseOptions): RegistryDatabase {
  mkdirSync(dirname(options.file), { recursive: true });
  const sqlite = new Database(options.file);
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
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

function applyMigrations(db: RegistryDb): void {
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
