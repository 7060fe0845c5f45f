// Batch workers in this process against real processes: a registry holding the schedules and a
// feature service, with the demo model trained and deployed as `fraud`.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registry } from '@slipway/contracts';
import { createClient, createLogger, type ServiceClient } from '@slipway/service-kit';
import { createTempDir, useAppHarness } from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch, runFiles } from './run.js';
import {
  buildBatchPlatform,
  startBatchPlatform,
  TOKEN,
  transactions,
  writeCsv,
  type BatchPlatform,
} from './test-support/platform.js';
import { jobOptions, startBatchWorker, type BatchWorkerOptions, type BatchWorkerOutcome } from './worker.js';

useAppHarness();

const { BatchRunStatus: Status } = registry;
let platform: BatchPlatform;
let batch: ServiceClient<typeof registry.BatchServiceService>;

beforeAll(async () => {
  await buildBatchPlatform();
  platform = await startBatchPlatform();
  batch = createClient(registry.BatchServiceService, platform.registry.address, { token: TOKEN });
}, 180_000);

afterAll(async () => {
  batch?.close();
  await platform?.stop();
});

/** A schedule whose latest occurrence (1 January 00:00 UTC) is due at once; the next is a year off. */
async function scheduleDueNow(
  name: string,
  dir: string,
  rows: number,
  job: Partial<registry.BatchJob> = {},
): Promise<void> {
  const input = path.join(dir, 'tx.csv');
  await writeCsv(input, transactions(rows, 3), { 17: 'tx-17,,1,1,0.1,1,0' });
  await batch.createBatchSchedule({
    name,
    cron: '0 0 1 1 *',
    startAt: new Date('2020-01-01T00:00:00Z'),
    paused: false,
    job: registry.BatchJob.fromPartial({
      deployment: 'fraud',
      input,
      output: path.join(dir, 'scores-{occurrence}.csv'),
      idColumn: 'transactionId',
      ...job,
    }),
  });
}

function workerOptions(dir: string, extra: Partial<BatchWorkerOptions> = {}): BatchWorkerOptions {
  return {
    registryAddress: platform.registry.address,
    featuresAddress: platform.features.address,
    token: TOKEN,
    cacheDir: path.join(dir, 'cache'),
    pollMs: 100,
    leaseSeconds: 10,
    logger: createLogger('batch-worker', { level: 'warn', destination: process.stderr }),
    ...extra,
  };
}

/** The schedule's only run, once a worker has claimed it. */
async function claimedRun(schedule: string): Promise<registry.BatchRun> {
  for (let i = 0; i < 600; i++) {
    const { runs } = await batch.listBatchRuns({ schedule, limit: 0 });
    if (runs[0]) return runs[0];
    await sleep(50);
  }
  throw new Error(`no run of ${schedule} was claimed`);
}

/** Waits until the run's checkpoint records at least `rows` rows (the run still going). */
async function checkpointAt(output: string, rows: number): Promise<number> {
  for (let i = 0; i < 2400; i++) {
    const text = await readFile(runFiles(output).checkpoint, 'utf8').catch(() => '');
    const done = text ? (JSON.parse(text) as { rowsRead: number }).rowsRead : 0;
    if (done >= rows) return done;
    const manifest = await readFile(runFiles(output).manifest, 'utf8').catch(() => '');
    if (manifest) throw new Error(`the run of ${output} ended before row ${rows}: use a larger input`);
    await sleep(25);
  }
  throw new Error(`the checkpoint of ${output} never reached row ${rows}`);
}

const sha256 = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

describe('startBatchWorker', () => {
  it('runs a due occurrence once, with the occurrence as prediction time, and records its numbers', async () => {
    const dir = (await createTempDir('batch-worker-once-')).path;
    await scheduleDueNow('once', dir, 3000);
    const outcomes: BatchWorkerOutcome[] = [];
    const worker = startBatchWorker(workerOptions(dir, { once: true, onRunEnd: (o) => outcomes.push(o) }));
    await worker.done;

    expect(outcomes).toHaveLength(1);
    const [{ run, result, manifest }] = outcomes as [BatchWorkerOutcome];
    expect(result).toBe('completed');
    const key = `${new Date().getUTCFullYear()}0101T0000Z`;
    const output = path.join(dir, `scores-${key}.csv`);
    expect(run.job!.output).toBe(output);
    expect(manifest).toMatchObject({
      status: 'succeeded',
      predictionTime: run.occurrence!.toISOString(),
      rows: { read: 3000, scored: 2999, rejected: 1 },
    });
    const [recorded] = (await batch.listBatchRuns({ schedule: 'once', limit: 0 })).runs;
    expect(recorded).toMatchObject({
      status: Status.BATCH_RUN_STATUS_SUCCEEDED,
      workerId: worker.workerId,
      rowsRead: 3000n,
      rowsScored: 2999n,
      rowsRejected: 1n,
      outputSha256: await sha256(output),
      attempts: 1,
    });
    // Nothing else is due: a second worker finds nothing.
    const idle: BatchWorkerOutcome[] = [];
    await startBatchWorker(workerOptions(dir, { once: true, onRunEnd: (o) => idle.push(o) })).done;
    expect(idle).toEqual([]);
    await batch.deleteBatchSchedule({ name: 'once', reason: '' });
  });

  it('stops the run at a checkpoint when its lease is lost (the schedule was deleted)', async () => {
    const dir = (await createTempDir('batch-worker-lost-')).path;
    await scheduleDueNow('lost', dir, 100_000, { batchSize: 256, checkpointEvery: 1024 });
    const outcomes: BatchWorkerOutcome[] = [];
    const worker = startBatchWorker(
      workerOptions(dir, { leaseSeconds: 2, onRunEnd: (o) => outcomes.push(o) }),
    );
    try {
      const run = await claimedRun('lost');
      await checkpointAt(run.job!.output, 1024);
      await batch.deleteBatchSchedule({ name: 'lost', reason: 'test' });
      for (let i = 0; i < 400 && outcomes.length === 0; i++) await sleep(50);
    } finally {
      await worker.shutdown();
    }
    expect(outcomes).toHaveLength(1);
    const [{ result, manifest, message }] = outcomes as [BatchWorkerOutcome];
    expect(result).toBe('lost');
    expect(message).toMatch(
      /it was cancelled: its schedule "lost" was deleted by platform; stop working on it/,
    );
    expect(manifest?.status).toBe('interrupted');
    expect(manifest!.rows.read).toBeLessThan(100_000);
    const [recorded] = (await batch.listBatchRuns({ schedule: 'lost', limit: 0 })).runs;
    expect(recorded!.status).toBe(Status.BATCH_RUN_STATUS_CANCELLED);
  }, 120_000);

  it('gives its run back on shutdown; another worker resumes it from the checkpoint, byte for byte', async () => {
    const dir = (await createTempDir('batch-worker-handover-')).path;
    await scheduleDueNow('handover', dir, 60_000, { batchSize: 256, checkpointEvery: 1024 });
    const first: BatchWorkerOutcome[] = [];
    const a = startBatchWorker(workerOptions(dir, { workerId: 'worker-a', onRunEnd: (o) => first.push(o) }));
    const run = await claimedRun('handover');
    await checkpointAt(run.job!.output, 2048);
    await a.shutdown();
    expect(first.map((o) => o.result)).toEqual(['released']);
    expect(first[0]!.manifest!.status).toBe('interrupted');
    const [given] = (await batch.listBatchRuns({ schedule: 'handover', limit: 0 })).runs;
    expect(given).toMatchObject({ status: Status.BATCH_RUN_STATUS_PENDING, workerId: 'worker-a' });

    const second: BatchWorkerOutcome[] = [];
    await startBatchWorker(
      workerOptions(dir, { workerId: 'worker-b', once: true, onRunEnd: (o) => second.push(o) }),
    ).done;
    expect(second).toHaveLength(1);
    const resumed = second[0]!.manifest!;
    expect(resumed).toMatchObject({ status: 'succeeded', resumes: 1, rows: { read: 60_000 } });
    expect(resumed.resumedFromRow).toBeGreaterThanOrEqual(2048);
    const [done] = (await batch.listBatchRuns({ schedule: 'handover', limit: 0 })).runs;
    expect(done).toMatchObject({
      status: Status.BATCH_RUN_STATUS_SUCCEEDED,
      workerId: 'worker-b',
      attempts: 2,
    });

    // The same job scored in one go writes the same bytes.
    const whole = path.join(dir, 'whole.csv');
    const uninterrupted = await runBatch({
      ...jobOptions(run.job!),
      output: whole,
      predictionTime: run.occurrence!,
      registryAddress: platform.registry.address,
      featuresAddress: platform.features.address,
      token: TOKEN,
      cacheDir: path.join(dir, 'cache'),
    });
    expect(uninterrupted.resumes).toBe(0);
    // Compared by hash: a diff of two 20 MB buffers would not fit in the test's memory.
    expect(await sha256(run.job!.output)).toBe(await sha256(whole));
    expect(done!.outputSha256).toBe(uninterrupted.output.sha256);
    await batch.deleteBatchSchedule({ name: 'handover', reason: '' });
  }, 120_000);
});
