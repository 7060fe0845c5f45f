// `slipway batch run` as a process against a real registry and feature service with the demo
// model trained and deployed as `fraud` by tools/train: exit codes, progress lines, and a run
// killed with SIGKILL that resumes to the bytes of an uninterrupted run.
import { execFile, spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  buildPlatform,
  createTempDir,
  PLATFORM_TOKEN as TOKEN,
  repoRoot,
  startPlatform,
  useAppHarness,
  type Platform,
  type RunningApp,
} from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../exit-codes.js';
import { buildBatchOptions, type BatchRunArguments } from './batch.js';

useAppHarness();

const exec = promisify(execFile);
const cli = path.join(repoRoot, 'apps/cli/dist/bin.js');

let platform: Platform;
let registryApp: RunningApp;
let featuresApp: RunningApp;
let dir: string;

beforeAll(async () => {
  await buildPlatform(['apps/registry', 'apps/features', 'tools/train', 'apps/cli']);
  dir = (await createTempDir('cli-batch-')).path;
  // Registry and feature service with the demo model; batch runs score in-process.
  platform = await startPlatform({ workers: 0, routers: 0, monitor: false });
  registryApp = platform.registry;
  featuresApp = platform.features;
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

const env = (): NodeJS.ProcessEnv => ({
  PATH: process.env['PATH'] ?? '',
  SLIPWAY_REGISTRY_ADDR: registryApp.address,
  SLIPWAY_FEATURES_ADDR: featuresApp.address,
  SLIPWAY_TOKEN: TOKEN,
  SLIPWAY_DATA_DIR: path.join(dir, 'cli'),
});

/** Runs `slipway <args>` to completion. */
async function slipway(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cli, ...args], { env: env() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `rows` demo transactions as CSV, with data lines replaced by `lines`. */
async function writeTransactions(
  file: string,
  rows: number,
  lines: Record<number, string> = {},
): Promise<void> {
  const out = ['transactionId,userId,amount,hourOfDay,merchantRisk,distanceKm,isForeign'];
  for (let i = 1; i <= rows; i++) {
    out.push(
      lines[i] ??
        `tx-${i},u${(i * 7919) % 1000},${((i * 37) % 500) + 0.99},${i % 24},${((i * 13) % 100) / 100},${(i * 3) % 90},${i % 17 === 0 ? 1 : 0}`,
    );
  }
  await writeFile(file, `${out.join('\n')}\n`);
}

const manifestOf = async (output: string): Promise<Record<string, unknown>> =>
  JSON.parse(await readFile(`${output}.manifest.json`, 'utf8')) as Record<string, unknown>;

describe('slipway batch run', () => {
  it('resumes a run killed with SIGKILL from its checkpoint; the output equals an uninterrupted run byte for byte', async () => {
    const input = path.join(dir, 'kill.csv');
    await writeTransactions(input, 20_000, { 5000: 'tx-5000,,1,1,0.1,1,0' });
    const output = path.join(dir, 'killed', 'scores.csv');
    const checkpoint = `${output}.checkpoint.json`;
    const args = [
      'batch',
      'run',
      '--deployment',
      'fraud',
      '--input',
      input,
      '--output',
      output,
      '--id-column',
      'transactionId',
      '--batch-size',
      '256',
      '--checkpoint-every',
      '1024',
    ];

    const child = spawn(process.execPath, [cli, ...args], { env: env(), stdio: 'ignore' });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    // Killed once the checkpoint exists and has moved on at least once.
    let rowsAtKill = 0;
    for (let i = 0; i < 1000 && rowsAtKill < 2048; i++) {
      await sleep(10);
      const text = await readFile(checkpoint, 'utf8').catch(() => '');
      rowsAtKill = text ? (JSON.parse(text) as { rowsRead: number }).rowsRead : 0;
    }
    child.kill('SIGKILL');
    expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });
    const saved = JSON.parse(await readFile(checkpoint, 'utf8')) as {
      rowsRead: number;
      output: { bytes: number };
    };
    expect(saved.rowsRead).toBeGreaterThanOrEqual(2048);
    expect(saved.rowsRead).toBeLessThan(20_000);
    expect((await stat(output)).size).toBeGreaterThanOrEqual(saved.output.bytes);

    const resumed = await slipway(...args);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`at row ${saved.rowsRead + 1} from checkpoint ${checkpoint}`);
    expect(resumed.stdout).toMatch(/status\s+succeeded/);
    const manifest = await manifestOf(output);
    expect(manifest).toMatchObject({
      status: 'succeeded',
      resumes: 1,
      resumedFromRow: saved.rowsRead,
      rows: { read: 20_000, scored: 19_999, rejected: 1 },
    });

    const whole = path.join(dir, 'whole', 'scores.csv');
    const uninterrupted = await slipway(
      ...args.map((arg) => (arg === output ? whole : arg)),
      '--prediction-time',
      String(manifest['predictionTime']),
    );
    expect(uninterrupted.code).toBe(0);
    expect(await readFile(output)).toEqual(await readFile(whole));
    expect(await readFile(`${output}.rejects.jsonl`)).toEqual(await readFile(`${whole}.rejects.jsonl`));
    await expect(stat(checkpoint)).rejects.toThrow(/ENOENT/);
  });

  it('fails with exit code 1 past the error budget and says so; succeeds within it', async () => {
    const input = path.join(dir, 'budget.csv');
    await writeTransactions(input, 100, { 7: 'tx-7,u7,lots,1,0.1,1,0', 8: 'tx-8,,1,1,0.1,1,0' });
    const output = path.join(dir, 'budget', 'scores.csv');
    const base = ['batch', 'run', '--deployment', 'fraud', '--input', input, '--output', output];

    const over = await slipway(...base, '--error-budget', '0.01');
    expect(over.code).toBe(1);
    expect(over.stderr).toContain(
      `error: batch run failed: 2 of 100 rows rejected (2%), over the error budget of 1% (--error-budget 0.01); see ${output}.rejects.jsonl`,
    );
    expect(await manifestOf(output)).toMatchObject({ status: 'failed', rows: { read: 100, rejected: 2 } });

    const under = await slipway(...base, '--error-budget', '0.02', '--reject', path.join(dir, 'bad.jsonl'));
    expect(under.code).toBe(0);
    expect(under.stdout).toMatch(/rows\s+100 read, 98 scored, 2 rejected \(2%; budget 2%\)/);
    const rejects = (await readFile(path.join(dir, 'bad.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects).toEqual([
      { row: 7, reason: 'field "amount": "lots" is not a number' },
      { row: 8, reason: 'entity key "userId" is missing' },
    ]);
  });

  it('prints plain progress lines when stderr is not a terminal, and the manifest with --json', async () => {
    const input = path.join(dir, 'progress.jsonl');
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ id: `j${i}`, userId: `u${i % 1000}`, amount: 12.5, hourOfDay: 3 }),
    );
    await writeFile(input, `${lines.join('\n')}\n`);
    const output = path.join(dir, 'progress', 'scores.csv');
    const run = await slipway(
      '--json',
      'batch',
      'run',
      '--deployment',
      'fraud',
      '--input',
      input,
      '--output',
      output,
      '--batch-size',
      '500',
      '--progress-interval',
      '0',
    );
    expect(run.code).toBe(0);
    const progress = run.stderr.trim().split('\n');
    expect(progress.length).toBeGreaterThan(1);
    for (const line of progress) {
      expect(line).toMatch(
        /^batch: [\d,]+ rows read \(\d+\.\d%\), [\d,]+ scored, 0 rejected, [\d,]+ rows\/s, ETA \d+ (s|min \d+ s)$/,
      );
    }
    expect(progress.at(-1)).toMatch(/^batch: 3,000 rows read \(100\.0%\)/);
    expect(JSON.parse(run.stdout)).toEqual(await manifestOf(output));
    expect((await readFile(output, 'utf8')).split('\n')[1]).toMatch(
      /^j0,[0-9a-f]{32},fraud,1,0\.\d+,20\d\d-/,
    );
  });

  it('exits 2 on bad arguments and 3 for a deployment that does not exist', async () => {
    const input = path.join(dir, 'small.csv');
    await writeTransactions(input, 3);
    const base = ['batch', 'run', '--input', input, '--output', path.join(dir, 'small', 'scores.csv')];
    const budget = await slipway(...base, '--deployment', 'fraud', '--error-budget', '5');
    expect(budget).toMatchObject({ code: 2 });
    expect(budget.stderr).toContain('--error-budget "5" is not a fraction from 0 to 1');
    const missing = await slipway(...base, '--deployment', 'nope');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/deployment "nope"/);
  });
});

describe('batch arguments', () => {
  const args = (extra: Partial<BatchRunArguments> = {}): BatchRunArguments => ({
    deployment: 'fraud',
    input: 'tx.csv',
    output: 'scores.csv',
    entityKey: [],
    errorBudget: '0.01',
    batchSize: '1024',
    checkpointEvery: '50000',
    recordSample: '0.01',
    progressInterval: '5',
    ...extra,
  });

  it('maps flags to run options', () => {
    expect(
      buildBatchOptions(
        args({
          version: '3',
          entityKey: ['user_id'],
          asOf: '2026-01-31T00:00:00Z',
          reject: 'bad.jsonl',
          errorBudget: '0.05',
        }),
      ),
    ).toEqual({
      deployment: 'fraud',
      version: 3,
      input: 'tx.csv',
      output: 'scores.csv',
      rejects: 'bad.jsonl',
      entityColumns: 'user_id',
      asOf: new Date('2026-01-31T00:00:00Z'),
      errorBudget: 0.05,
      batchSize: 1024,
      checkpointEvery: 50_000,
      recordSample: 0.01,
    });
    expect(buildBatchOptions(args({ entityKey: ['user=uid', 'merchant=mid'] })).entityColumns).toEqual({
      user: 'uid',
      merchant: 'mid',
    });
  });

  it('refuses malformed values with the flag and the fix', () => {
    expect(() => buildBatchOptions(args({ batchSize: '0' }))).toThrow(
      new UsageError('--batch-size "0" is not a whole number of rows (1 or more)'),
    );
    expect(() => buildBatchOptions(args({ asOf: 'yesterday' }))).toThrow(
      new UsageError('--as-of "yesterday" is not an ISO-8601 time, e.g. 2026-01-31T00:00:00Z'),
    );
    expect(() => buildBatchOptions(args({ entityKey: ['uid', 'a=b'] }))).toThrow(UsageError);
  });
});
