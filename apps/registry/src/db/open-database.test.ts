import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTempDir } from '../testing/fixtures.js';
import { MIGRATIONS_DIR, openDatabase, type RegistryDatabase } from './open-database.js';
import { writeTransaction } from './transactions.js';

describe('openDatabase', () => {
  const opened: RegistryDatabase[] = [];
  let temp: ReturnType<typeof createTempDir>;
  const open = (file = join(temp.dir, 'nested', 'registry.db')) => {
    const db = openDatabase({ file });
    opened.push(db);
    return db;
  };

  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
    temp?.cleanup();
  });

  it('finds the committed migrations relative to the package root', () => {
    expect(MIGRATIONS_DIR.replaceAll('\\', '/')).toMatch(/apps\/registry\/drizzle\/$/);
    expect(existsSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'))).toBe(true);
  });

  it('creates the file with WAL, foreign keys, busy timeout and NORMAL sync, and applies migrations', () => {
    temp = createTempDir();
    const { sqlite } = open();
    expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(sqlite.pragma('synchronous', { simple: true })).toBe(1);
    const tables = (
      sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((t) => t.name);
    expect(tables).toEqual(
      expect.arrayContaining([
        'models',
        'model_versions',
        'aliases',
        'audit_log',
        'audit_head',
        'changes',
        'deployments',
        'deployment_history',
        'endpoints',
        'batch_schedules',
        'batch_runs',
      ]),
    );
    const triggers = (
      sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[]
    ).map((t) => t.name);
    expect(triggers).toEqual(
      expect.arrayContaining([
        'model_versions_immutable',
        'model_versions_no_delete',
        'audit_log_no_update',
        'audit_log_no_delete',
      ]),
    );
    expect(sqlite.prepare('SELECT seq, hash FROM audit_head').get()).toEqual({
      seq: 0,
      hash: '0'.repeat(64),
    });
  });

  it('opens an existing database again without re-applying migrations', () => {
    temp = createTempDir();
    const file = join(temp.dir, 'registry.db');
    open(file).close();
    const again = open(file);
    const applied = again.sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as {
      n: number;
    };
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as {
      entries: unknown[];
    };
    expect(applied.n).toBe(journal.entries.length);
    expect(again.sqlite.prepare('SELECT count(*) AS n FROM audit_head').get()).toEqual({ n: 1 });
  });

  it('close() is idempotent', () => {
    temp = createTempDir();
    const db = open();
    db.close();
    expect(() => db.close()).not.toThrow();
  });

  it('syncs durable transactions fully and returns to NORMAL afterwards, even when they throw', () => {
    temp = createTempDir();
    const database = open();
    let during = -1;
    writeTransaction(database, () => void 0, { durable: true });
    expect(() =>
      writeTransaction(
        database,
        () => {
          during = database.sqlite.pragma('synchronous', { simple: true }) as number;
          throw new Error('boom');
        },
        { durable: true },
      ),
    ).toThrow('boom');
    expect(during).toBe(2);
    expect(database.sqlite.pragma('synchronous', { simple: true })).toBe(1);
  });
});
