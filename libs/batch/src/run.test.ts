// Batch runs against real processes: a registry and a feature service with the demo model trained
// and deployed as `fraud` by tools/train, a monitor for the sampled records, and onnxruntime in
// this process.
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { features, monitor, registry } from '@slipway/contracts';
import { FailedPreconditionError, NotFoundError } from '@slipway/errors';
import { createClient } from '@slipway/service-kit';
import { createTempDir, useAppHarness } from '@slipway/testing';
import { parse } from 'csv-parse/sync';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from './run-files.js';
import { runBatch, runFiles, type BatchRunOptions } from './run.js';
import {
  buildBatchPlatform,
  startBatchPlatform,
  TOKEN,
  transactions,
  writeCsv,
  writeJsonl,
  type BatchPlatform,
  type TransactionRow,
} from './test-support/platform.js';

useAppHarness();

let platform: BatchPlatform;
let version: registry.ModelVersion;

beforeAll(async () => {
  await buildBatchPlatform();
  platform = await startBatchPlatform({ monitor: true });
  const models = createClient(registry.ModelServiceService, platform.registry.address, { token: TOKEN });
  try {
    version = (await models.getModelVersion({ model: 'fraud', version: 1, alias: '' })).version!;
  } finally {
    models.close();
  }
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

const PREDICTION_TIME = new Date('2026-02-01T12:00:00.000Z');

/** Run options against the platform, writing under `dir`. */
function optionsFor(
  dir: string,
  extra: Partial<BatchRunOptions> & Pick<BatchRunOptions, 'input' | 'output'>,
) {
  return {
    deployment: 'fraud',
    registryAddress: platform.registry.address,
    featuresAddress: platform.features.address,
    token: TOKEN,
    cacheDir: path.join(dir, 'cache'),
    idColumn: 'transactionId',
    predictionTime: PREDICTION_TIME,
    ...extra,
  } satisfies BatchRunOptions;
}

const sha256 = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

/** The output as records keyed by its header. */
async function readOutput(file: string): Promise<Record<string, string>[]> {
  return parse(await readFile(file), { columns: true }) as Record<string, string>[];
}

async function readRejects(file: string): Promise<{ row: number; reason: string; raw?: unknown }[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { row: number; reason: string });
}

const number = (value: number): features.RawValue => ({ kind: { $case: 'number', number: value } });

function requestValues(row: TransactionRow): Record<string, features.RawValue> {
  return {
    amount: number(row.amount),
    hourOfDay: number(row.hourOfDay),
    merchantRisk: number(row.merchantRisk),
    distanceKm: number(row.distanceKm),
    isForeign: number(row.isForeign),
  };
}

/** onnxruntime's scores for a matrix of vectors, from the artifact the run cached. */
async function onnxruntimeScores(
  cacheDir: string,
  matrix: Float32Array,
  rows: number,
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(path.join(cacheDir, version.artifactSha256));
  try {
    const input = version.signature!.inputs[0]!.name;
    const output = version.signature!.outputs[0]!.name;
    const result = await session.run({
      [input]: new ort.Tensor('float32', matrix, [rows, matrix.length / rows]),
    });
    return result[output]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

function featureClient() {
  return createClient(features.FeatureServiceService, platform.features.address, { token: TOKEN });
}

describe('runBatch', () => {
  it('scores a CSV file with the stable version: one output row per input row, and a manifest', async () => {
    const dir = (await createTempDir('batch-csv-')).path;
    const input = path.join(dir, 'tx.csv');
    const output = path.join(dir, 'out', 'scores.csv');
    const rows = transactions(3000);
    await writeCsv(input, rows);

    const manifest = await runBatch(optionsFor(dir, { input, output, batchSize: 512 }));

    const text = await readFile(output, 'utf8');
    expect(text.slice(0, text.indexOf('\n'))).toBe('id,request_id,model,version,score,predicted_at');
    const out = await readOutput(output);
    expect(out.map((r) => r['id'])).toEqual(rows.map((r) => r.transactionId));
    expect(new Set(out.map((r) => r['request_id'])).size).toBe(3000);
    for (const r of out) {
      expect(r).toMatchObject({ model: 'fraud', version: '1', predicted_at: '2026-02-01T12:00:00.000Z' });
      expect(r['request_id']).toMatch(/^[0-9a-f]{32}$/);
      expect(Number(r['score'])).toBeGreaterThan(0);
      expect(Number(r['score'])).toBeLessThan(1);
    }

    expect(manifest).toMatchObject({
      status: 'succeeded',
      deployment: 'fraud',
      variant: 'stable',
      model: 'fraud',
      version: 1,
      artifactSha256: version.artifactSha256,
      featureSet: version.lineage!.featureSet,
      predictionTime: PREDICTION_TIME.toISOString(),
      input: { path: input, format: 'csv', sha256: await sha256(input), bytes: (await stat(input)).size },
      output: { path: output, sha256: await sha256(output), bytes: (await stat(output)).size },
      rows: { read: 3000, scored: 3000, rejected: 0 },
      errorBudget: 0.01,
      resumes: 0,
      resumedFromRow: 0,
      recordsSampled: 0,
    });
    expect(manifest.durations.totalMs).toBeGreaterThan(0);
    expect(manifest.peakRssBytes).toBeGreaterThan(0);
    expect(JSON.parse(await readFile(runFiles(output).manifest, 'utf8'))).toEqual(manifest);
    expect(await readFile(`${output}.rejects.jsonl`, 'utf8')).toBe('');
    expect(await readCheckpoint(runFiles(output).checkpoint)).toBeUndefined();
  });

  it("writes the scores onnxruntime computes on the feature service's own vectors for the same rows", async () => {
    const dir = (await createTempDir('batch-parity-')).path;
    const input = path.join(dir, 'tx.csv');
    const output = path.join(dir, 'scores.csv');
    const rows = transactions(12, 7);
    await writeCsv(input, rows);
    const options = optionsFor(dir, { input, output });
    await runBatch(options);

    const client = featureClient();
    try {
      const { matrix } = await client.getFeatureVectors({
        featureSet: version.lineage!.featureSet!,
        entities: rows.map((r) => ({ entityKeys: { userId: r.userId }, requestValues: requestValues(r) })),
      });
      const expected = await onnxruntimeScores(options.cacheDir, Float32Array.from(matrix), rows.length);
      const scores = (await readOutput(output)).map((r) => Math.fround(Number(r['score'])));
      expect(scores).toEqual(Array.from(expected));
    } finally {
      client.close();
    }
  });

  it('scores point in time with --as-of: the vectors GetHistoricalFeatures gives for that time', async () => {
    const dir = (await createTempDir('batch-asof-')).path;
    const input = path.join(dir, 'tx.csv');
    const rows = transactions(12, 9);
    await writeCsv(input, rows);
    // The demo's feature events are from January 2026; today the online values have expired.
    const asOf = new Date('2026-01-28T00:00:00Z');
    const pointInTime = optionsFor(dir, { input, output: path.join(dir, 'as-of.csv'), asOf });
    const manifest = await runBatch(pointInTime);
    await runBatch(optionsFor(dir, { input, output: path.join(dir, 'latest.csv') }));

    const client = featureClient();
    try {
      const matrix: number[] = [];
      for await (const message of client.getHistoricalFeatures({
        queries: rows.map((r) => ({
          entityKeys: { userId: r.userId },
          asOfTime: asOf,
          requestValues: requestValues(r),
        })),
        views: [],
        featureSet: version.lineage!.featureSet!,
      })) {
        for (const row of message.rows) matrix.push(...row.vector);
      }
      const expected = await onnxruntimeScores(pointInTime.cacheDir, Float32Array.from(matrix), rows.length);
      const scores = await readOutput(pointInTime.output);
      expect(scores.map((r) => Math.fround(Number(r['score'])))).toEqual(Array.from(expected));
      const latest = await readOutput(path.join(dir, 'latest.csv'));
      expect(scores.map((r) => r['score'])).not.toEqual(latest.map((r) => r['score']));
      expect(manifest.asOf).toBe(asOf.toISOString());
    } finally {
      client.close();
    }
  });

  it('reads JSON Lines like CSV: the same rows get the same scores', async () => {
    const dir = (await createTempDir('batch-jsonl-')).path;
    const rows = transactions(1500, 3);
    await writeCsv(path.join(dir, 'tx.csv'), rows);
    // Numbers may also come as decimal strings; blank lines are not rows.
    await writeJsonl(path.join(dir, 'tx.jsonl'), rows, {
      2: JSON.stringify({ ...rows[1], amount: String(rows[1]!.amount) }),
      3: `\n${JSON.stringify(rows[2])}`,
    });
    const fromCsv = await runBatch(
      optionsFor(dir, { input: path.join(dir, 'tx.csv'), output: path.join(dir, 'a.csv') }),
    );
    const fromJsonl = await runBatch(
      optionsFor(dir, { input: path.join(dir, 'tx.jsonl'), output: path.join(dir, 'b.csv') }),
    );
    expect(fromJsonl).toMatchObject({ status: 'succeeded', input: { format: 'jsonl' }, rows: fromCsv.rows });
    const pick = (r: Record<string, string>) => [r['id'], r['score']];
    expect((await readOutput(path.join(dir, 'b.csv'))).map(pick)).toEqual(
      (await readOutput(path.join(dir, 'a.csv'))).map(pick),
    );
  });

  describe('bad rows', () => {
    const bad = {
      3: 'tx-3,,12.5,3,0.2,4.1,0',
      10: 'tx-10,u10,abc,3,0.2,4.1,0',
      50: 'tx-50,u50,12.5',
      77: 'tx-77,u77,12"5,3,0.2,4.1,0',
    };

    it('go to the reject file with their row and reason; the run succeeds within the error budget', async () => {
      const dir = (await createTempDir('batch-rejects-')).path;
      const input = path.join(dir, 'tx.csv');
      const output = path.join(dir, 'scores.csv');
      const rejects = path.join(dir, 'rejects.jsonl');
      await writeCsv(input, transactions(200), bad);

      const manifest = await runBatch(optionsFor(dir, { input, output, rejects, errorBudget: 0.05 }));

      expect(manifest).toMatchObject({
        status: 'succeeded',
        rows: { read: 200, scored: 196, rejected: 4 },
        rejects: { path: rejects, sha256: await sha256(rejects) },
      });
      expect(manifest.error).toBeUndefined();
      const rejected = await readRejects(rejects);
      expect(rejected).toEqual([
        { row: 3, reason: 'entity key "userId" is missing' },
        { row: 10, reason: 'field "amount": "abc" is not a number' },
        { row: 50, reason: 'has 3 fields but the header has 7', raw: ['tx-50', 'u50', '12.5'] },
        { row: 77, reason: expect.stringMatching(/^unparseable CSV: .*quote/i) },
      ]);
      const ids = (await readOutput(output)).map((r) => r['id']);
      expect(ids).toHaveLength(196);
      expect(ids).not.toContain('tx-10');
      expect(ids.slice(0, 3)).toEqual(['tx-1', 'tx-2', 'tx-4']);
    });

    it('fail the run once the rejected share exceeds the error budget, and the manifest says so', async () => {
      const dir = (await createTempDir('batch-budget-')).path;
      const input = path.join(dir, 'tx.csv');
      const output = path.join(dir, 'scores.csv');
      await writeCsv(input, transactions(200), bad);

      const manifest = await runBatch(optionsFor(dir, { input, output, errorBudget: 0.01 }));

      const message = `4 of 200 rows rejected (2%), over the error budget of 1% (--error-budget 0.01); see ${output}.rejects.jsonl`;
      expect(manifest).toMatchObject({ status: 'failed', error: message, rows: { read: 200, rejected: 4 } });
      expect(JSON.parse(await readFile(runFiles(output).manifest, 'utf8'))).toMatchObject({
        status: 'failed',
        error: message,
      });
    });

    it('in JSON Lines: lines that are not JSON objects, and values of the wrong type', async () => {
      const dir = (await createTempDir('batch-jsonl-rejects-')).path;
      const input = path.join(dir, 'tx.jsonl');
      const rows = transactions(20);
      await writeJsonl(input, rows, {
        4: '{"transactionId": "tx-4", "userId": ',
        5: '[1, 2]',
        6: JSON.stringify({ ...rows[5], userId: { id: 1 } }),
        7: JSON.stringify({ ...rows[6], hourOfDay: true }),
      });
      const manifest = await runBatch(
        optionsFor(dir, { input, output: path.join(dir, 's.csv'), errorBudget: 0.5 }),
      );
      expect(manifest.rows).toEqual({ read: 20, scored: 16, rejected: 4 });
      expect(
        (await readRejects(path.join(dir, 's.csv.rejects.jsonl'))).map((r) => [r.row, r.reason]),
      ).toEqual([
        [4, expect.stringMatching(/^line 4 is not JSON: /)],
        [5, 'line 5 is not a JSON object'],
        [6, 'entity key "userId" is {"id":1}, not a string or number'],
        [7, 'field "hourOfDay": true is not a number'],
      ]);
    });
  });

  describe('resuming', () => {
    const bad = { 700: 'tx-700,,1,2,0.1,2,0', 3100: 'tx-3100,u1,x,2,0.1,2,0' };

    it('a run that crashed after a checkpoint continues from it and writes the bytes of an uninterrupted run', async () => {
      const dir = (await createTempDir('batch-resume-')).path;
      const input = path.join(dir, 'tx.csv');
      await writeCsv(input, transactions(6000, 5), bad);
      const output = path.join(dir, 'resumed.csv');
      const options = optionsFor(dir, { input, output, batchSize: 256, checkpointEvery: 1024 });
      const crash = new Error('simulated crash');
      // A failure after the checkpoint at row 2048 leaves later chunks in the files.
      await expect(
        runBatch({
          ...options,
          onProgress: (p) => {
            if (p.rowsRead >= 2816) throw crash;
          },
        }),
      ).rejects.toBe(crash);
      const checkpoint = (await readCheckpoint(runFiles(output).checkpoint))!;
      expect(checkpoint).toMatchObject({ rowsRead: 2048, rowsRejected: 1, attempt: 0 });
      expect((await stat(output)).size).toBeGreaterThan(checkpoint.output.bytes);
      expect(JSON.parse(await readFile(runFiles(output).manifest, 'utf8'))).toMatchObject({
        status: 'failed',
        error: 'simulated crash',
      });

      const notices: string[] = [];
      const resumed = await runBatch({ ...options, onNotice: (m) => notices.push(m) });
      expect(notices).toContain(
        `resuming run ${checkpoint.runId} at row 2049 from checkpoint ${runFiles(output).checkpoint}`,
      );
      expect(resumed).toMatchObject({
        status: 'succeeded',
        runId: checkpoint.runId,
        resumes: 1,
        resumedFromRow: 2048,
        rows: { read: 6000, scored: 5998, rejected: 2 },
      });

      const whole = path.join(dir, 'whole.csv');
      const uninterrupted = await runBatch({ ...options, output: whole });
      expect(await readFile(output)).toEqual(await readFile(whole));
      expect(await readFile(`${output}.rejects.jsonl`)).toEqual(await readFile(`${whole}.rejects.jsonl`));
      expect(resumed.output.sha256).toBe(uninterrupted.output.sha256);
      expect(resumed.runId).toBe(uninterrupted.runId);
    });

    it('a run stopped by its signal writes a checkpoint and the same call finishes it', async () => {
      const dir = (await createTempDir('batch-interrupt-')).path;
      const input = path.join(dir, 'tx.csv');
      await writeCsv(input, transactions(4000, 6));
      const output = path.join(dir, 'scores.csv');
      const options = optionsFor(dir, { input, output, batchSize: 256, checkpointEvery: 100_000 });
      const abort = new AbortController();
      const stopped = await runBatch({
        ...options,
        signal: abort.signal,
        onProgress: (p) => p.rowsRead >= 1024 && abort.abort(),
      });
      expect(stopped.status).toBe('interrupted');
      expect(stopped.error).toMatch(
        /^interrupted after row \d+; run the same command again to resume from there$/,
      );
      const checkpoint = (await readCheckpoint(runFiles(output).checkpoint))!;
      expect(checkpoint.rowsRead).toBe(stopped.rows.read);

      const finished = await runBatch(options);
      expect(finished).toMatchObject({ status: 'succeeded', resumedFromRow: checkpoint.rowsRead });
      const whole = await runBatch({ ...options, output: path.join(dir, 'whole.csv') });
      expect(finished.output.sha256).toBe(whole.output.sha256);
    });

    it('refuses a checkpoint written for other arguments or an input that changed since', async () => {
      const dir = (await createTempDir('batch-refuse-')).path;
      const input = path.join(dir, 'tx.csv');
      await writeCsv(input, transactions(3000, 8));
      const output = path.join(dir, 'scores.csv');
      const options = optionsFor(dir, { input, output, batchSize: 256, checkpointEvery: 512 });
      const crash = new Error('crash');
      await expect(
        runBatch({
          ...options,
          onProgress: (p) => {
            if (p.rowsRead >= 1024) throw crash;
          },
        }),
      ).rejects.toBe(crash);
      await expect(runBatch({ ...options, batchSize: 512 })).rejects.toThrow(
        new FailedPreconditionError(
          `checkpoint "${runFiles(output).checkpoint}" belongs to another run (batchSize was 256, now 512); run the same command to resume it, or delete the checkpoint to start over`,
        ),
      );
      await writeFile(input, `${await readFile(input, 'utf8')}tx-x,u1,1,1,0.1,1,0\n`);
      await expect(runBatch(options)).rejects.toThrow(
        /belongs to another run \(inputSha256 was "[0-9a-f]{64}", now/,
      );
    });
  });

  it('sends a deterministic sample of the predictions to the monitor, as source "batch"', async () => {
    const dir = (await createTempDir('batch-monitor-')).path;
    const input = path.join(dir, 'tx.csv');
    const output = path.join(dir, 'scores.csv');
    await writeCsv(input, transactions(400, 11));
    const manifest = await runBatch(
      optionsFor(dir, { input, output, monitorAddress: platform.monitor!.address, recordSample: 0.25 }),
    );
    expect(manifest.recordsSampled).toBeGreaterThan(50);
    expect(manifest.recordsSampled).toBeLessThan(150);

    const scores = new Map((await readOutput(output)).map((r) => [r['request_id']!, r]));
    const client = createClient(monitor.MonitorServiceService, platform.monitor!.address, { token: TOKEN });
    try {
      let records: monitor.PredictionRecord[] = [];
      for (let i = 0; i < 100 && records.length < manifest.recordsSampled; i++) {
        records = (
          await client.listPredictions({ deployment: 'fraud', variant: '', requestId: '', limit: 1000 })
        ).records;
        if (records.length < manifest.recordsSampled) await sleep(100);
      }
      const mine = records.filter((r) => scores.has(r.requestId));
      expect(mine).toHaveLength(manifest.recordsSampled);
      for (const record of mine) {
        const row = scores.get(record.requestId)!;
        expect(record).toMatchObject({
          source: 'batch',
          deployment: 'fraud',
          variant: 'stable',
          model: 'fraud',
          version: 1,
          status: 'OK',
          featureSetHash: version.lineage!.featureSet!.contentHash,
        });
        expect(record.features).toHaveLength(8);
        expect(Math.fround(record.outputs[0]!)).toBe(Math.fround(Number(row['score'])));
        expect(record.time).toEqual(PREDICTION_TIME);
      }
    } finally {
      client.close();
    }
  });

  it('refuses a second run on an output while the first holds its lock, naming the holder', async () => {
    const dir = (await createTempDir('batch-lock-')).path;
    const input = path.join(dir, 'tx.csv');
    await writeCsv(input, transactions(12_000, 9));
    const output = path.join(dir, 'scores.csv');
    const options = optionsFor(dir, { input, output, batchSize: 256 });
    let second: Promise<unknown> | undefined;
    const first = runBatch({
      ...options,
      // Once the first run is writing, start another on the same output.
      onProgress: () => {
        second ??= runBatch(options).catch((error: unknown) => error);
      },
    });
    const manifest = await first;
    const refused = await second;
    expect(refused).toBeInstanceOf(FailedPreconditionError);
    expect((refused as Error).message).toContain(
      `output "${output}" is being written by another run (pid ${process.pid}, since `,
    );
    // The refused run touched nothing: the first one's output is whole, its lock gone.
    expect(manifest).toMatchObject({ status: 'succeeded', rows: { read: 12_000 } });
    expect(await sha256(output)).toBe(manifest.output.sha256);
    await expect(stat(runFiles(output).lock)).rejects.toThrow(/ENOENT/);
  });

  it('names a pinned version the model does not have', async () => {
    const dir = (await createTempDir('batch-pinned-')).path;
    const input = path.join(dir, 'tx.csv');
    await writeCsv(input, transactions(5));
    const run = runBatch(optionsFor(dir, { input, output: path.join(dir, 's.csv'), version: 9 }));
    await expect(run).rejects.toBeInstanceOf(NotFoundError);
    await expect(run).rejects.toThrow(/version 9/);
  });
});
