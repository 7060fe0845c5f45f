import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, openDatabase } from './open-database.js';

describe('openDatabase', () => {
  it('finds the committed migrations relative to the package root', () => {
    expect(MIGRATIONS_DIR.replaceAll('\\', '/')).toMatch(/apps\/monitor\/drizzle\/$/);
    expect(existsSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'))).toBe(true);
  });

  it('opens with WAL and synchronous=FULL, and creates the table with its indexes', async () => {
    const dir = await createTempDir('monitor-db-');
    const { sqlite, close } = openDatabase({ file: join(dir.path, 'nested', 'monitor.db') });
    try {
      expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(sqlite.pragma('synchronous', { simple: true })).toBe(2);
      const indexes = (
        sqlite
          .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'prediction_records'")
          .all() as { name: string }[]
      ).map((i) => i.name);
      expect(indexes).toEqual(
        expect.arrayContaining([
          'prediction_records_deployment_time',
          'prediction_records_deployment_variant_time',
          'prediction_records_time',
        ]),
      );
    } finally {
      close();
    }
  });
});
