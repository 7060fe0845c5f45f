// Scheduled batch runs end to end: `slipway batch schedule …` and `slipway batch runs` as
// processes, and `slipway batch worker` processes against a real registry and feature service with
// the demo model deployed as `fraud`: two workers and one due occurrence give one run; a worker
// SIGKILLed mid-run is taken over once its lease expires and the output is byte-identical.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  buildPlatform,
  createTempDir,
  PLATFORM_TOKEN as TOKEN,
  repoRoot,
  startApp,
  startPlatform,
  useAppHarness,
  type Platform,
  type RunningApp,
} from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScheduleRequest, type ScheduleCreateArguments } from './batch-schedule.js';

useAppHarness();

const exec = promisify(execFile);
const cli = path.join(repoRoot, 'apps/cli/dist/bin.js');

let platform: Platform;
let dir: string;

beforeAll(async () => {
  await buildPlatform(['apps/registry', 'apps/features', 'tools/train', 'apps/cli']);
  dir = (await createTempDir('cli-batch-worker-')).path;
  platform = await startPlatform({ workers: 0, routers: 0, monitor: false });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

const env = (): Record<string, string> => ({
  PATH: process.env['PATH'] ?? '',
  SLIPWAY_REGISTRY_ADDR: platform.registry.address,
  SLIPWAY_FEATURES_ADDR: platform.features.address,
  SLIPWAY_TOKEN: TOKEN,
  SLIPWAY_DATA_DIR: path.join(dir, 'cli'),
});

/** Runs `slipway <args>` to completion. */
async function slipway(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cli, ...args], { env: env(), cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `slipway batch worker` as a process; its JSON log lines are in `logs()`. */
function startWorker(id: string, lease: string): Promise<RunningApp> {
  return startApp({
    name: id,
    entry: cli,
    args: ['batch', 'worker', '--worker-id', id, '--lease', lease, '--poll', '200ms'],
    env: env(),
    cwd: dir,
    telemetry: false,
    waitUntil: 'spawned',
  });
}

/** The messages a worker logged. */
const messages = (worker: RunningApp): string[] =>
  worker.logs().flatMap((line) => {
    try {
      return [String((JSON.parse(line) as { msg?: unknown }).msg)];
    } catch {
      return [];
    }
  });

interface RunJson {
  runId: number;
  status: number;
  workerId: string;
  attempts: number;
  occurrence: string;
  occurrenceKey: string;
  job: { output: string };
  outputSha256: string;
  rowsRead: number;
}
const SUCCEEDED = 3;

async function runsOf(schedule: string): Promise<RunJson[]> {
  const { code, stdout, stderr } = await slipway('--json', 'batch', 'runs', '--schedule', schedule);
  if (code !== 0) throw new Error(`slipway batch runs failed (${code}): ${stderr}`);
  return JSON.parse(stdout) as RunJson[];
}

/** Polls the schedule's runs until `done` holds for them. */
async function waitForRuns(
  schedule: string,
  done: (runs: RunJson[]) => boolean,
  timeoutMs = 120_000,
): Promise<RunJson[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const runs = await runsOf(schedule);
    if (done(runs)) return runs;
    if (Date.now() > until) throw new Error(`runs of ${schedule} never got there: ${JSON.stringify(runs)}`);
    await sleep(250);
  }
}

/** Rows read at the run's last checkpoint (0 before the first). */
async function checkpointRows(output: string): Promise<number> {
  const text = await readFile(`${output}.checkpoint.json`, 'utf8').catch(() => '');
  return text ? (JSON.parse(text) as { rowsRead: number }).rowsRead : 0;
}

/** `rows` demo transactions as CSV; row 17 has no user id (a reject). */
async function writeTransactions(file: string, rows: number): Promise<void> {
  const out = ['transactionId,userId,amount,hourOfDay,merchantRisk,distanceKm,isForeign'];
  for (let i = 1; i <= rows; i++) {
    out.push(
      i === 17
        ? 'tx-17,,1,1,0.1,1,0'
        : `tx-${i},u${(i * 7919) % 1000},${((i * 37) % 500) + 0.99},${i % 24},${((i * 13) % 100) / 100},${(i * 3) % 90},${i % 17 === 0 ? 1 : 0}`,
    );
  }
  await writeFile(file, `${out.join('\n')}\n`);
}

const sha256 = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

/** Creates a schedule whose latest occurrence (1 January 00:00 UTC) is due now; the next is a year off. */
async function scheduleDueNow(
  name: string,
  input: string,
  output: string,
  ...extra: string[]
): Promise<void> {
  const created = await slipway(
    'batch',
    'schedule',
    'create',
    name,
    '--cron',
    '0 0 1 1 *',
    '--start-at',
    '2020-01-01T00:00:00Z',
    '--deployment',
    'fraud',
    '--input',
    input,
    '--output',
    output,
    '--id-column',
    'transactionId',
    ...extra,
  );
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
}

async function auditActions(target: string): Promise<string[]> {
  const { stdout } = await slipway('--json', 'audit', 'log', '--limit', '200');
  return (JSON.parse(stdout) as { action: string; target: string }[])
    .filter((e) => e.target === target)
    .map((e) => e.action)
    .reverse();
}

describe('slipway batch schedule', () => {
  it('creates, lists and deletes schedules, with exit codes for bad input, duplicates and unknown names', async () => {
    const bad = await slipway(
      'batch',
      'schedule',
      'create',
      'nightly',
      '--cron',
      '61 2 * * *',
      '--deployment',
      'fraud',
      '--input',
      'tx.csv',
      '--output',
      'out/scores-{occurrence}.csv',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('cron "61 2 * * *" is invalid: minute 61 is out of range 0-59');
    const noPlaceholder = await slipway(
      'batch',
      'schedule',
      'create',
      'nightly',
      '--cron',
      '0 2 * * *',
      '--deployment',
      'fraud',
      '--input',
      'tx.csv',
      '--output',
      'scores.csv',
    );
    expect(noPlaceholder.code).toBe(2);
    expect(noPlaceholder.stderr).toContain(
      'must contain {occurrence} so each occurrence writes its own file',
    );

    const args = [
      'batch',
      'schedule',
      'create',
      'nightly',
      '--cron',
      '0 2 * * *',
      '--deployment',
      'fraud',
      '--input',
      'tx.csv',
      '--output',
      'out/scores-{occurrence}.csv',
    ];
    const created = await slipway(...args);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^name\s+nightly$/m);
    expect(created.stdout).toMatch(/^cron\s+0 2 \* \* \* \(UTC\)$/m);
    expect(created.stdout).toMatch(/^deployment\s+fraud \(stable\)$/m);
    // Relative paths are resolved where the command ran: workers may run elsewhere.
    expect(created.stdout).toContain(`output      ${path.join(dir, 'out/scores-{occurrence}.csv')}`);
    expect(created.stdout).toMatch(/^next run\s+\d{4}-\d\d-\d\dT02:00:00Z$/m);
    const duplicate = await slipway(...args);
    expect(duplicate.code).toBe(5);
    expect(duplicate.stderr).toContain('batch schedule "nightly" already exists');

    const list = await slipway('batch', 'schedule', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/│ nightly\s+│ 0 2 \* \* \*\s+│ fraud \(stable\)\s+│/);
    expect(JSON.parse((await slipway('--json', 'batch', 'schedule', 'list')).stdout)).toMatchObject([
      { name: 'nightly', cron: '0 2 * * *', paused: false },
    ]);
    expect((await slipway('batch', 'schedule', 'pause', 'nightly')).stdout).toMatch(/^state\s+paused$/m);
    expect((await slipway('batch', 'schedule', 'resume', 'nightly')).stdout).toMatch(/^state\s+active$/m);

    expect((await slipway('batch', 'runs', '--schedule', 'nope')).code).toBe(3);
    const unknown = await slipway('batch', 'schedule', 'delete', 'nope');
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('batch schedule "nope" does not exist');
    const deleted = await slipway('batch', 'schedule', 'delete', 'nightly', '--reason', 'test');
    expect(deleted).toMatchObject({ code: 0, stdout: 'deleted batch schedule "nightly"\n' });
    expect(await auditActions('batch-schedule/nightly')).toEqual([
      'batch.schedule.create',
      'batch.schedule.pause',
      'batch.schedule.resume',
      'batch.schedule.delete',
    ]);
  });
});

describe('slipway batch worker', () => {
  it('two workers, one due occurrence: exactly one run and one output file; the other worker never runs it', async () => {
    const input = path.join(dir, 'lease.csv');
    await writeTransactions(input, 3000);
    const outDir = path.join(dir, 'lease');
    await scheduleDueNow('lease', input, path.join(outDir, 'scores-{occurrence}.csv'));

    const [a, b] = await Promise.all([startWorker('worker-a', '10s'), startWorker('worker-b', '10s')]);
    const [run] = await waitForRuns('lease', (runs) => runs.some((r) => r.status === SUCCEEDED));
    // Both keep polling a little longer: nothing else is due.
    await sleep(1500);
    expect(await a.stop('SIGTERM')).toMatchObject({ code: 0, timedOut: false });
    expect(await b.stop('SIGTERM')).toMatchObject({ code: 0, timedOut: false });

    const runs = await runsOf('lease');
    expect(runs).toHaveLength(1);
    expect(run).toMatchObject({ status: SUCCEEDED, attempts: 1, rowsRead: 3000 });
    const [winner, loser] = run!.workerId === 'worker-a' ? [a, b] : [b, a];
    expect(['worker-a', 'worker-b']).toContain(run!.workerId);
    expect(messages(winner)).toEqual(expect.arrayContaining(['claimed batch run', 'batch run succeeded']));
    expect(messages(loser)).not.toContain('claimed batch run');
    expect(messages(loser)).not.toContain('took over batch run');
    expect(messages(loser)).toContain('batch worker stopped');

    const files = (await readdir(outDir)).sort();
    const output = `scores-${run!.occurrenceKey}.csv`;
    expect(files).toEqual([output, `${output}.manifest.json`, `${output}.rejects.jsonl`]);
    expect(await sha256(path.join(outDir, output))).toBe(run!.outputSha256);
    expect(await auditActions(`batch-run/lease@${run!.occurrenceKey}`)).toEqual([
      'batch.run.claim',
      'batch.run.complete',
    ]);
    await slipway('batch', 'schedule', 'delete', 'lease');
  }, 180_000);

  it('takes over a run whose worker was SIGKILLed, once its lease expires; the output equals an uninterrupted run byte for byte', async () => {
    const input = path.join(dir, 'takeover.csv');
    await writeTransactions(input, 60_000);
    const outDir = path.join(dir, 'takeover');
    await scheduleDueNow(
      'takeover',
      input,
      path.join(outDir, 'scores-{occurrence}.csv'),
      '--batch-size',
      '256',
      '--checkpoint-every',
      '1024',
    );

    const a = await startWorker('worker-a', '3s');
    const [claimed] = await waitForRuns('takeover', (runs) => runs.length === 1);
    expect(claimed!.workerId).toBe('worker-a');
    const output = claimed!.job.output;
    // worker-b polls while worker-a holds the lease: it gets nothing.
    const b = await startWorker('worker-b', '3s');
    let rows = 0;
    for (let i = 0; i < 2400 && rows < 2048; i++) {
      await sleep(25);
      rows = await checkpointRows(output);
    }
    expect(rows).toBeGreaterThanOrEqual(2048);
    expect(rows).toBeLessThan(60_000);
    await a.kill();

    const [run] = await waitForRuns('takeover', (runs) => runs[0]?.status === SUCCEEDED);
    expect(await b.stop('SIGTERM')).toMatchObject({ code: 0, timedOut: false });
    expect(run).toMatchObject({ workerId: 'worker-b', rowsRead: 60_000 });
    expect(run!.attempts).toBeGreaterThanOrEqual(2);
    expect(messages(b)).toContain('took over batch run');
    const manifest = JSON.parse(await readFile(`${output}.manifest.json`, 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ status: 'succeeded', predictionTime: run!.occurrence });
    expect(manifest['resumes']).toBeGreaterThanOrEqual(1);
    expect(manifest['resumedFromRow']).toBeGreaterThanOrEqual(2048);
    const actions = await auditActions(`batch-run/takeover@${run!.occurrenceKey}`);
    expect(actions[0]).toBe('batch.run.claim');
    expect(actions).toContain('batch.run.takeover');
    expect(actions.at(-1)).toBe('batch.run.complete');

    // The same job, uninterrupted, with the occurrence as prediction time.
    const whole = path.join(dir, 'takeover-whole', 'scores.csv');
    const uninterrupted = await slipway(
      'batch',
      'run',
      '--deployment',
      'fraud',
      '--input',
      input,
      '--output',
      whole,
      '--id-column',
      'transactionId',
      '--batch-size',
      '256',
      '--checkpoint-every',
      '1024',
      '--prediction-time',
      run!.occurrence,
    );
    expect(uninterrupted.code).toBe(0);
    // Compared by hash: a diff of two multi-megabyte buffers would not fit in the test's memory.
    expect(await sha256(output)).toBe(await sha256(whole));
    expect(await sha256(`${output}.rejects.jsonl`)).toBe(await sha256(`${whole}.rejects.jsonl`));
    expect(run!.outputSha256).toBe(await sha256(whole));
    expect(
      (await readdir(outDir)).filter((f) => f.endsWith('.lock') || f.endsWith('.checkpoint.json')),
    ).toEqual([]);
  }, 240_000);
});

describe('batch schedule arguments', () => {
  const args = (extra: Partial<ScheduleCreateArguments> = {}): ScheduleCreateArguments => ({
    cron: '0 2 * * *',
    deployment: 'fraud',
    input: 'tx.csv',
    output: 'scores-{occurrence}.csv',
    entityKey: [],
    ...extra,
  });

  it('maps flags to the request, with paths made absolute', () => {
    expect(
      buildScheduleRequest(
        'nightly',
        args({
          version: '3',
          entityKey: ['user=uid'],
          errorBudget: '0.05',
          batchSize: '256',
          startAt: '2026-01-01T00:00:00Z',
        }),
        '/work',
      ),
    ).toEqual({
      name: 'nightly',
      cron: '0 2 * * *',
      job: {
        deployment: 'fraud',
        version: 3,
        input: '/work/tx.csv',
        output: '/work/scores-{occurrence}.csv',
        entityColumn: '',
        entityColumns: { user: 'uid' },
        idColumn: '',
        errorBudget: 0.05,
        batchSize: 256,
        checkpointEvery: 0,
        recordSample: undefined,
      },
      startAt: new Date('2026-01-01T00:00:00Z'),
      paused: false,
    });
  });

  it('refuses malformed values with the flag and the fix', () => {
    expect(() => buildScheduleRequest('n', args({ startAt: 'soon' }))).toThrow(
      '--start-at "soon" is not an ISO-8601 time, e.g. 2026-01-31T00:00:00Z',
    );
    expect(() => buildScheduleRequest('n', args({ errorBudget: '2' }))).toThrow(
      '--error-budget "2" is not a fraction from 0 to 1',
    );
  });
});
