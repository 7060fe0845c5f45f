import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { CorruptSpoolFileError, decodeSpoolFile, encodeSpoolFile, Spool } from './spool.js';
import { predictionRecords } from './test-support/fake-monitor.js';

describe('spool files', () => {
  it('round-trip records as length-delimited messages of the given size', () => {
    const records = predictionRecords(7);
    const messages = decodeSpoolFile(encodeSpoolFile(records, 3));
    expect(messages.map((m) => m.records.length)).toEqual([3, 3, 1]);
    expect(messages.flatMap((m) => m.records)).toEqual(records);
  });

  it('refuse content that is not a spool or is cut short', () => {
    const content = encodeSpoolFile(predictionRecords(2), 1);
    expect(() => decodeSpoolFile(Buffer.from('hello'))).toThrow(CorruptSpoolFileError);
    expect(() => decodeSpoolFile(content.subarray(0, content.length - 3))).toThrow(/truncated/);
  });
});

describe('Spool', () => {
  it('writes files that sort oldest first, counts their bytes, and removes them', async () => {
    const dir = await createTempDir('spool-');
    const spool = new Spool(dir.path, 1_000_000);
    expect(await spool.write(predictionRecords(2), 10)).toBe(true);
    expect(await spool.write(predictionRecords(3, 2), 10)).toBe(true);
    expect(spool.files.map((f) => f.name)).toEqual(readdirSync(dir.path).sort());
    expect(spool.bytes).toBe(spool.files.reduce((sum, f) => sum + f.bytes, 0));

    const [oldest] = spool.files;
    expect((await spool.read(oldest!)).flatMap((m) => m.records)).toEqual(predictionRecords(2));
    await spool.remove(oldest!);
    expect(spool.files).toHaveLength(1);
    expect(readdirSync(dir.path)).toHaveLength(1);

    const again = new Spool(dir.path, 1_000_000);
    expect(again.files).toEqual(spool.files);
    expect(again.bytes).toBe(spool.bytes);
  });

  it('refuses a write past its bound', async () => {
    const dir = await createTempDir('spool-');
    const size = encodeSpoolFile(predictionRecords(5), 5).length;
    const spool = new Spool(dir.path, size * 2);
    expect(await spool.write(predictionRecords(5), 5)).toBe(true);
    expect(await spool.write(predictionRecords(5), 5)).toBe(true);
    expect(await spool.write(predictionRecords(5), 5)).toBe(false);
    expect(spool.files).toHaveLength(2);
  });

  it('removes stale temporary files of a crashed writer and sets corrupt files aside', async () => {
    const dir = await createTempDir('spool-');
    const stale = path.join(dir.path, '.000000000000001-1-000000000.spool.tmp');
    writeFileSync(stale, 'half');
    utimesSync(stale, new Date(0), new Date(0));
    writeFileSync(path.join(dir.path, '000000000000002-1-000000000.spool'), 'garbage');
    const spool = new Spool(dir.path, 1_000_000);
    expect(readdirSync(dir.path)).toEqual(['000000000000002-1-000000000.spool']);

    const [corrupt] = spool.files;
    await expect(spool.read(corrupt!)).rejects.toThrow(CorruptSpoolFileError);
    await spool.quarantine(corrupt!);
    expect(spool.files).toEqual([]);
    expect(spool.bytes).toBe(0);
    expect(readdirSync(dir.path)).toEqual(['000000000000002-1-000000000.spool.corrupt']);
  });
});
