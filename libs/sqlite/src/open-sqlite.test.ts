import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { openSqlite } from './index.js';

const notes = sqliteTable('notes', { id: text('id').primaryKey(), body: text('body').notNull() });

async function migrationsFolder(): Promise<{ dir: string; file: string }> {
  const tmp = await createTempDir('sqlite-');
  const dir = path.join(tmp.path, 'drizzle');
  mkdirSync(path.join(dir, 'meta'), { recursive: true });
  writeFileSync(
    path.join(dir, '0000_init.sql'),
    'CREATE TABLE `notes` (`id` text PRIMARY KEY NOT NULL, `body` text NOT NULL);',
  );
  writeFileSync(
    path.join(dir, 'meta', '_journal.json'),
    JSON.stringify({
      version: '7',
      dialect: 'sqlite',
      entries: [{ idx: 0, version: '6', when: 1, tag: '0000_init', breakpoints: true }],
    }),
  );
  return { dir, file: path.join(tmp.path, 'data', 'app.db') };
}

describe('openSqlite', () => {
  it('creates the file in WAL mode, applies the migrations once, and closes idempotently', async () => {
    const { dir, file } = await migrationsFolder();
    const first = openSqlite({ file, schema: { notes }, migrationsFolder: dir });
    expect(first.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(first.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    first.db.insert(notes).values({ id: 'a', body: 'kept' }).run();
    first.close();
    first.close();

    // Reopening applies nothing twice and keeps the data.
    const second = openSqlite({ file, schema: { notes }, migrationsFolder: dir });
    expect(second.db.select().from(notes).all()).toEqual([{ id: 'a', body: 'kept' }]);
    second.close();
  });

  it('fails with the migration error and leaves no open connection behind', async () => {
    const { dir, file } = await migrationsFolder();
    writeFileSync(path.join(dir, '0000_init.sql'), 'CREATE TABLE broken (');
    expect(() => openSqlite({ file, schema: { notes }, migrationsFolder: dir })).toThrow(
      /Failed to run the query 'CREATE TABLE broken/,
    );
  });
});
