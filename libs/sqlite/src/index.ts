import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';

/** An open SQLite database with its drizzle handle. */
export interface SqliteDatabase<S extends Record<string, unknown>> {
  /** drizzle over the service's schema. */
  readonly db: BetterSQLite3Database<S>;
  /** The underlying connection, for pragmas, raw statements and transaction control. */
  readonly sqlite: Database.Database;
  /** Closes the connection. Idempotent. */
  close(): void;
}

/** Options of {@link openSqlite}. */
export interface OpenSqliteOptions<S extends Record<string, unknown>> {
  /** Path of the SQLite file (its directory is created if missing), or `:memory:`. */
  file: string;
  /** The drizzle schema module (`import * as schema from './schema.js'`). */
  schema: S;
  /** The service's committed drizzle-kit migrations folder. */
  migrationsFolder: string;
  /** How long a writer waits for the write lock before SQLITE_BUSY. Default 5000 ms. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) a service's SQLite database the Slipway way and applies its pending
 * migrations. Pragmas: WAL (readers never block the writer), `busy_timeout` (several connections,
 * e.g. two processes, queue for the write lock instead of failing at once), `foreign_keys`, and
 * `synchronous=NORMAL`: in WAL mode a power cut may lose the last commits but never corrupts the
 * file; services that must not lose an acknowledged write raise it to FULL per transaction.
 */
export function openSqlite<S extends Record<string, unknown>>(
  options: OpenSqliteOptions<S>,
): SqliteDatabase<S> {
  if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
  const sqlite = new Database(options.file);
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    const db = drizzle({ client: sqlite, schema: options.schema });
    applyMigrations(db, options.migrationsFolder);
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

function applyMigrations(db: BetterSQLite3Database<Record<string, unknown>>, migrationsFolder: string): void {
  try {
    migrate(db, { migrationsFolder });
  } catch (err) {
    // drizzle's migrator reads the applied set before its BEGIN, so two processes starting on a
    // fresh file can both try the same migration; the loser fails on "table exists". A second
    // pass sees the winner's work and has nothing left to do; a genuine failure fails again.
    try {
      migrate(db, { migrationsFolder });
    } catch {
      throw err;
    }
  }
}
