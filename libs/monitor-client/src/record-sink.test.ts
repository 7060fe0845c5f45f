// The sink against a real grpc-js MonitorService (an in-memory fake) on loopback.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@slipway/service-kit';
import { createTempDir, freePort } from '@slipway/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createRecordSink, type RecordSink, type RecordSinkOptions } from './index.js';
import {
  predictionRecord,
  predictionRecords,
  startFakeMonitor,
  TOKEN,
  type FakeMonitor,
} from './test-support/fake-monitor.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fakeMonitor(address?: string): Promise<FakeMonitor> {
  const fake = await startFakeMonitor(address);
  cleanups.push(() => fake.stop());
  return fake;
}

function sink(options: RecordSinkOptions): RecordSink {
  const created = createRecordSink({
    token: TOKEN,
    logger: createLogger('record-sink', { level: 'silent' }),
    ...options,
  });
  cleanups.push(() => created.close());
  return created;
}

/** An address where nothing listens (yet). */
async function deadAddress(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

function spoolFiles(dir: string): { names: string[]; bytes: number } {
  const names = readdirSync(dir).filter((name) => name.endsWith('.spool'));
  return { names, bytes: names.reduce((sum, name) => sum + statSync(path.join(dir, name)).size, 0) };
}

const poll = { timeout: 20_000, interval: 50 };

describe('createRecordSink', () => {
  it('delivers every record exactly once, in batches', async () => {
    const monitor = await fakeMonitor();
    const records = predictionRecords(1_234);
    const s = sink({ address: monitor.address, batchSize: 50 });
    for (const record of records) s.record(record);
    await s.flush();

    expect(s.stats()).toMatchObject({ sent: 1_234, spooled: 0, dropped: 0, pending: 0 });
    expect(monitor.received).toBe(1_234);
    expect(monitor.stored.size).toBe(1_234);
    // A call carries at most four messages of batchSize records.
    expect(monitor.calls).toBeGreaterThanOrEqual(Math.ceil(1_234 / 200));
    expect(monitor.stored.get('req-77/stable')).toEqual(records[77]);
  });

  it('sends on its own within the flush interval, without flush()', async () => {
    const monitor = await fakeMonitor();
    const s = sink({ address: monitor.address, flushIntervalMs: 20 });
    for (const record of predictionRecords(3)) s.record(record);
    await expect.poll(() => s.stats().sent, poll).toBe(3);
    expect(monitor.stored.size).toBe(3);
    expect(s.stats().pending).toBe(0);
  });

  it('is a counted no-op without a monitor address', async () => {
    const s = sink({});
    for (const record of predictionRecords(5)) s.record(record);
    await s.flush();
    expect(s.stats()).toEqual({ sent: 0, spooled: 0, dropped: 0, disabled: 5, pending: 0, spoolBytes: 0 });
  });

  it('drops a record the monitor would refuse, without sending it', async () => {
    const monitor = await fakeMonitor();
    const s = sink({ address: monitor.address });
    s.record(predictionRecord(1, { deployment: '' }));
    s.record(predictionRecord(2));
    await s.flush();
    expect(s.stats()).toMatchObject({ sent: 1, dropped: 1 });
    expect([...monitor.stored.keys()]).toEqual(['req-2/stable']);
  });

  it('with no monitor listening, returns from record() at once and spools the records', async () => {
    const dir = await createTempDir('sink-spool-');
    const s = sink({ address: await deadAddress(), spoolDir: dir.path, batchSize: 100 });
    for (const record of predictionRecords(2_000)) expect(s.record(record)).toBeUndefined();
    // Nothing was waited for: every record is still in memory when the loop ends.
    expect(s.stats()).toMatchObject({ sent: 0, pending: 2_000 });

    await s.flush();
    const files = spoolFiles(dir.path);
    expect(s.stats()).toMatchObject({
      sent: 0,
      spooled: 2_000,
      dropped: 0,
      pending: 0,
      spoolBytes: files.bytes,
    });
    expect(files.names.length).toBeGreaterThanOrEqual(2_000 / 400);
    expect(readdirSync(dir.path).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('drops and counts what would take the spool past maxSpoolBytes', async () => {
    const dir = await createTempDir('sink-spool-');
    const maxSpoolBytes = 40_000;
    const s = sink({ address: await deadAddress(), spoolDir: dir.path, batchSize: 100, maxSpoolBytes });
    for (const record of predictionRecords(5_000)) s.record(record);
    await s.flush();

    const { spooled, dropped, spoolBytes } = s.stats();
    expect(spooled).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
    expect(spooled + dropped).toBe(5_000);
    expect(spoolBytes).toBeLessThanOrEqual(maxSpoolBytes);
    expect(spoolFiles(dir.path).bytes).toBe(spoolBytes);
  });

  it('without a spool, drops and counts records beyond maxQueue', async () => {
    const s = sink({ address: await deadAddress(), maxQueue: 100 });
    for (const record of predictionRecords(250)) s.record(record);
    expect(s.stats()).toMatchObject({ dropped: 150, pending: 100 });
    await s.close();
    expect(s.stats()).toMatchObject({ sent: 0, spooled: 0, dropped: 250, pending: 0 });
  });

  it('replays the spool, oldest first, once the monitor is up, and empties it', async () => {
    const dir = await createTempDir('sink-spool-');
    const address = await deadAddress();
    const s = sink({ address, spoolDir: dir.path, batchSize: 100, flushIntervalMs: 20 });
    for (const record of predictionRecords(1_000)) s.record(record);
    await s.flush();
    expect(s.stats().spooled).toBe(1_000);

    const monitor = await fakeMonitor(address);
    await expect.poll(() => s.stats().spoolBytes, poll).toBe(0);
    expect(s.stats()).toMatchObject({ sent: 1_000, dropped: 0, pending: 0 });
    expect(monitor.stored.size).toBe(1_000);
    expect(monitor.order).toEqual(predictionRecords(1_000).map((r) => r.requestId));
    expect(spoolFiles(dir.path).names).toEqual([]);
  });

  it("replays a previous sink's spool files from the same directory", async () => {
    const dir = await createTempDir('sink-spool-');
    const first = sink({ address: await deadAddress(), spoolDir: dir.path });
    for (const record of predictionRecords(300)) first.record(record);
    await first.close();
    expect(first.stats()).toMatchObject({ spooled: 300, pending: 0 });
    expect(spoolFiles(dir.path).names.length).toBeGreaterThan(0);

    const monitor = await fakeMonitor();
    const second = sink({ address: monitor.address, spoolDir: dir.path, flushIntervalMs: 20 });
    expect(second.stats().spoolBytes).toBeGreaterThan(0);
    await expect.poll(() => second.stats().sent, poll).toBe(300);
    expect(second.stats()).toMatchObject({ dropped: 0, spoolBytes: 0 });
    expect(monitor.stored.size).toBe(300);
  });

  it('keeps record() from waiting on a slow monitor, and spills the queue beyond maxQueue to the spool', async () => {
    const dir = await createTempDir('sink-spool-');
    const monitor = await fakeMonitor();
    monitor.delayMs = 2_000;
    const s = sink({
      address: monitor.address,
      spoolDir: dir.path,
      maxQueue: 100,
      batchSize: 50,
      flushIntervalMs: 20,
    });
    for (const record of predictionRecords(60)) s.record(record);
    // The batch is full: the loop starts its (slow) call with these 60 records.
    await expect.poll(() => monitor.started, poll).toBe(1);

    for (const record of predictionRecords(190, 60)) expect(s.record(record)).toBeUndefined();
    // The slow call is still running: nothing has been acknowledged, nothing dropped.
    expect(monitor.stored.size).toBe(0);
    expect(s.stats()).toMatchObject({ sent: 0, dropped: 0, pending: 250 });

    await expect.poll(() => s.stats().spooled, poll).toBe(100);
    monitor.delayMs = 0;
    await expect.poll(() => s.stats().sent, poll).toBe(250);
    expect(s.stats()).toMatchObject({ dropped: 0, pending: 0, spoolBytes: 0 });
    expect(monitor.stored.size).toBe(250);
    expect(monitor.received).toBe(250);
  });

  it('close() delivers what is queued, then drops later records', async () => {
    const monitor = await fakeMonitor();
    const s = sink({ address: monitor.address });
    for (const record of predictionRecords(10)) s.record(record);
    await s.close();
    expect(monitor.stored.size).toBe(10);
    s.record(predictionRecord(11));
    expect(s.stats()).toMatchObject({ sent: 10, dropped: 1 });
    await s.close();
  });

  it('close() stops waiting for a slow monitor after closeTimeoutMs and spools what was in flight', async () => {
    const dir = await createTempDir('sink-spool-');
    const monitor = await fakeMonitor();
    monitor.delayMs = 10_000;
    const s = sink({ address: monitor.address, spoolDir: dir.path, closeTimeoutMs: 200 });
    for (const record of predictionRecords(10)) s.record(record);
    await s.close();
    expect(s.stats()).toMatchObject({ sent: 0, spooled: 10, dropped: 0, pending: 0 });
    expect(spoolFiles(dir.path).names).toHaveLength(1);
  });
});
