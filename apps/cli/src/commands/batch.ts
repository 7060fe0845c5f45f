import path from 'node:path';
import {
  runBatch,
  runFiles,
  startBatchWorker,
  type BatchProgress,
  type BatchRunOptions,
  type RunManifest,
} from '@slipway/batch';
import { createLogger, durationMsSchema, UnavailableError } from '@slipway/service-kit';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import {
  collect,
  parseCount,
  parseEntityColumns,
  parseFraction,
  parseTime,
  parseVersion,
} from '../arguments.js';
import { UsageError } from '../exit-codes.js';
import { formatBytes, printFields, printJson } from '../output.js';
import type { Run } from '../run.js';
import { batchScheduleCommands } from './batch-schedule.js';

/** The options of `slipway batch run`, as commander collects them. */
export interface BatchRunArguments {
  deployment: string;
  version?: string;
  input: string;
  output: string;
  entityKey: string[];
  idColumn?: string;
  asOf?: string;
  predictionTime?: string;
  reject?: string;
  errorBudget: string;
  batchSize: string;
  checkpointEvery: string;
  recordSample: string;
  features?: string;
  cacheDir?: string;
  progressInterval: string;
}

/** Exit code of a run stopped by SIGINT or SIGTERM (after its checkpoint), as shells use for SIGINT. */
const INTERRUPTED_EXIT_CODE = 130;

/** The options of `slipway batch worker`, as commander collects them. */
export interface BatchWorkerArguments {
  workerId?: string;
  lease: string;
  poll: string;
  once?: boolean;
  features?: string;
  cacheDir?: string;
}

/**
 * `slipway batch run`, `slipway batch worker`, `slipway batch schedule …` and `slipway batch runs`.
 */
export function batchCommands(program: Command, run: Run): void {
  const batch = program
    .command('batch')
    .description(
      "score files with a deployment's model in this process (batch inference), now or on a schedule",
    );

  batch
    .command('run')
    .description(
      "score a CSV or JSONL file with a deployment's stable (or pinned) model version; resumable: run the same command again after a crash",
    )
    .requiredOption('--deployment <name>', 'the deployment whose model scores the rows, e.g. fraud')
    .option('--version <n>', "pin a version of the deployment's model instead of its stable one")
    .requiredOption('--input <file>', 'rows to score: .csv with a header line, or .jsonl')
    .requiredOption(
      '--output <file>',
      'the scores (CSV); <output>.manifest.json and <output>.checkpoint.json go next to it',
    )
    .option(
      '--entity-key <column|key=column>',
      'input column of the entity key (repeatable as key=column); default: the column named like the key',
      collect,
      [],
    )
    .option('--id-column <name>', "input column copied to each row's id (default id; else the row number)")
    .option('--as-of <time>', 'ISO-8601: point-in-time features as of this time instead of the latest values')
    .option('--prediction-time <time>', 'ISO-8601 time written in every row (default: when the run started)')
    .option(
      '--reject <file>',
      'rejected rows, as JSON lines with row and reason (default <output>.rejects.jsonl)',
    )
    .option(
      '--error-budget <fraction>',
      'the run fails when more than this share of rows is rejected',
      '0.01',
    )
    .option('--batch-size <rows>', 'rows per feature-service call and model run', '1024')
    .option('--checkpoint-every <rows>', 'rows between checkpoints', '50000')
    .option(
      '--record-sample <fraction>',
      'share of predictions sent to the monitor when $SLIPWAY_MONITOR_ADDR (or --monitor) is set',
      '0.01',
    )
    .option(
      '--features <address>',
      'feature service address (default $SLIPWAY_FEATURES_ADDR or 127.0.0.1:7002)',
    )
    .option(
      '--cache-dir <dir>',
      'verified model artifacts (default <$SLIPWAY_DATA_DIR or .slipway>/artifacts)',
    )
    .option(
      '--progress-interval <seconds>',
      'seconds between progress lines when stderr is not a terminal',
      '5',
    )
    .action(
      run(async (ctx, cmd) => {
        const args = cmd.opts<BatchRunArguments>();
        const global = cmd.optsWithGlobals<{ monitor?: string }>();
        const monitorAddress = global.monitor || process.env['SLIPWAY_MONITOR_ADDR'] || undefined;
        const progress = createProgressReporter(
          ctx.json,
          parseSeconds(args.progressInterval, '--progress-interval'),
        );
        const abort = new AbortController();
        const stop = (): void => abort.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        let manifest: RunManifest;
        try {
          manifest = await runBatch({
            ...buildBatchOptions(args),
            registryAddress: ctx.registryAddress,
            featuresAddress: args.features || process.env['SLIPWAY_FEATURES_ADDR'] || '127.0.0.1:7002',
            ...(monitorAddress ? { monitorAddress } : {}),
            ...(ctx.token ? { token: ctx.token } : {}),
            cacheDir: args.cacheDir ?? path.join(ctx.dataDir, 'artifacts'),
            onProgress: progress.update,
            onNotice: progress.notice,
            signal: abort.signal,
          });
        } catch (err) {
          progress.stop();
          // The message names the service that could not be reached; the generic wrapper would
          // blame the registry.
          if (err instanceof UnavailableError) {
            process.stderr.write(`error: ${err.message}\n`);
            process.exitCode = 6;
            return;
          }
          throw err;
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
        progress.stop();
        if (ctx.json) printJson(manifest);
        else printSummary(manifest);
        if (manifest.status === 'interrupted') {
          process.stderr.write(`${manifest.error}\n`);
          process.exitCode = INTERRUPTED_EXIT_CODE;
        } else if (manifest.status === 'failed') {
          process.stderr.write(`error: batch run failed: ${manifest.error}\n`);
          process.exitCode = 1;
        }
      }),
    );

  batch
    .command('worker')
    .description(
      "run the registry's batch schedules: claim due runs under a lease, score them in this process, take over runs whose worker died; stops cleanly on SIGINT/SIGTERM",
    )
    .option('--worker-id <id>', 'unique per worker, in leases and the audit log (default <hostname>-<pid>)')
    .option('--lease <duration>', 'lease on a run, renewed every third of it while the run goes', '30s')
    .option('--poll <duration>', 'wait between claims while nothing is due', '5s')
    .option('--once', 'run what is due, then exit')
    .option(
      '--features <address>',
      'feature service address (default $SLIPWAY_FEATURES_ADDR or 127.0.0.1:7002)',
    )
    .option(
      '--cache-dir <dir>',
      'verified model artifacts (default <$SLIPWAY_DATA_DIR or .slipway>/artifacts)',
    )
    .action(
      run(async (ctx, cmd) => {
        const args = cmd.opts<BatchWorkerArguments>();
        const global = cmd.optsWithGlobals<{ monitor?: string }>();
        const monitorAddress = global.monitor || process.env['SLIPWAY_MONITOR_ADDR'] || undefined;
        const leaseMs = parseDuration(args.lease, '--lease');
        if (leaseMs < 1000 || leaseMs % 1000 !== 0)
          throw new UsageError(`--lease "${args.lease}" must be whole seconds, e.g. 30s`);
        const worker = startBatchWorker({
          ...(args.workerId ? { workerId: args.workerId } : {}),
          registryAddress: ctx.registryAddress,
          featuresAddress: args.features || process.env['SLIPWAY_FEATURES_ADDR'] || '127.0.0.1:7002',
          ...(monitorAddress ? { monitorAddress } : {}),
          ...(ctx.token ? { token: ctx.token } : {}),
          cacheDir: args.cacheDir ?? path.join(ctx.dataDir, 'artifacts'),
          leaseSeconds: leaseMs / 1000,
          pollMs: parseDuration(args.poll, '--poll'),
          once: args.once ?? false,
          logger: createLogger('batch-worker'),
        });
        const stop = (): void => void worker.shutdown();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          await worker.done;
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      }),
    );

  batchScheduleCommands(batch, run);
}

/**
 * The run options the command line decides (addresses, token and callbacks come from the
 * context).
 */
export function buildBatchOptions(
  args: BatchRunArguments,
): Omit<BatchRunOptions, 'registryAddress' | 'featuresAddress' | 'cacheDir'> {
  return {
    deployment: args.deployment,
    ...(args.version === undefined ? {} : { version: parseVersion(args.version, '--version') }),
    input: args.input,
    output: args.output,
    ...(args.reject === undefined ? {} : { rejects: args.reject }),
    ...entityColumnsOf(args.entityKey),
    ...(args.idColumn === undefined ? {} : { idColumn: args.idColumn }),
    ...(args.asOf === undefined ? {} : { asOf: parseTime(args.asOf, '--as-of') }),
    ...(args.predictionTime === undefined
      ? {}
      : { predictionTime: parseTime(args.predictionTime, '--prediction-time') }),
    errorBudget: parseFraction(args.errorBudget, '--error-budget'),
    batchSize: parseCount(args.batchSize, '--batch-size'),
    checkpointEvery: parseCount(args.checkpointEvery, '--checkpoint-every'),
    recordSample: parseFraction(args.recordSample, '--record-sample'),
  };
}

function entityColumnsOf(specs: readonly string[]): Pick<BatchRunOptions, 'entityColumns'> {
  const entityColumns = parseEntityColumns(specs);
  return entityColumns === undefined ? {} : { entityColumns };
}

/** `30s`, `500ms`, `1m` → milliseconds. */
function parseDuration(text: string, flag: string): number {
  const parsed = durationMsSchema.safeParse(text);
  if (!parsed.success) throw new UsageError(`${flag} "${text}" is not a duration, e.g. 30s, 500ms or 1m`);
  return parsed.data;
}

function parseSeconds(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`${flag} "${text}" is not a number of seconds`);
  }
  return value;
}

interface ProgressReporter {
  update(progress: BatchProgress): void;
  notice(message: string): void;
  stop(): void;
}

/** `1,234` */
function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `42 s`, `3 min 5 s` */
function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/**
 * Rows per second of this attempt, and the time left: the row count is unknown until the end, so
 * the total is estimated from the share of the input's bytes read so far.
 */
function rateAndEta(p: BatchProgress): { rate: number; eta: number } {
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.rowsThisAttempt / seconds : 0;
  const estimatedRows = p.bytesRead > 0 ? (p.rowsRead * p.totalBytes) / p.bytesRead : p.rowsRead;
  const eta = rate > 0 ? Math.max(0, estimatedRows - p.rowsRead) / rate : Infinity;
  return { rate, eta };
}

/**
 * A progress bar with rows/s and ETA on a terminal; otherwise a plain line every `intervalSeconds`
 * (and notices as plain lines), all on stderr so stdout keeps the result.
 */
function createProgressReporter(json: boolean, intervalSeconds: number): ProgressReporter {
  if (process.stderr.isTTY && !json) {
    let bar: cliProgress.SingleBar | undefined;
    return {
      update(p) {
        const { rate, eta } = rateAndEta(p);
        const payload = { rows: count(p.rowsRead), rate: count(rate), left: duration(eta) };
        if (!bar) {
          bar = new cliProgress.SingleBar(
            {
              format: 'scoring [{bar}] {percentage}% | {rows} rows | {rate} rows/s | ETA {left}',
              stream: process.stderr,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(p.totalBytes, p.bytesRead, payload);
        } else bar.update(p.bytesRead, payload);
      },
      notice(message) {
        if (bar) bar.stop();
        bar = undefined;
        process.stderr.write(`${message}\n`);
      },
      stop() {
        bar?.stop();
        bar = undefined;
      },
    };
  }
  let last = 0;
  return {
    update(p) {
      const now = performance.now();
      if (now - last < intervalSeconds * 1000) return;
      last = now;
      const { rate, eta } = rateAndEta(p);
      const percent = p.totalBytes > 0 ? Math.min(100, (100 * p.bytesRead) / p.totalBytes) : 100;
      process.stderr.write(
        `batch: ${count(p.rowsRead)} rows read (${percent.toFixed(1)}%), ${count(p.rowsScored)} scored, ` +
          `${count(p.rowsRejected)} rejected, ${count(rate)} rows/s, ETA ${duration(eta)}\n`,
      );
    },
    notice(message) {
      process.stderr.write(`${message}\n`);
    },
    stop() {},
  };
}

function printSummary(m: RunManifest): void {
  const seconds = m.durations.totalMs / 1000;
  const percent = (fraction: number): string => `${Number((fraction * 100).toPrecision(3))}%`;
  const rejected = m.rows.read === 0 ? 0 : m.rows.rejected / m.rows.read;
  printFields([
    ['status', m.status],
    ['model', `${m.model}@${m.version} (deployment ${m.deployment}, variant ${m.variant})`],
    [
      'feature set',
      `${m.featureSet.name}@${m.featureSet.version} (${m.featureSet.contentHash.slice(0, 12)}…)`,
    ],
    ['as of', m.asOf],
    [
      'rows',
      `${count(m.rows.read)} read, ${count(m.rows.scored)} scored, ${count(m.rows.rejected)} rejected ` +
        `(${percent(rejected)}; budget ${percent(m.errorBudget)})`,
    ],
    ['output', `${m.output.path} (${formatBytes(m.output.bytes)}, sha256 ${m.output.sha256.slice(0, 12)}…)`],
    ['rejects', m.rows.rejected > 0 ? m.rejects.path : ''],
    ['manifest', runFiles(m.output.path).manifest],
    [
      'time',
      `${seconds.toFixed(1)} s${m.resumes > 0 ? ` over ${m.resumes + 1} attempts` : ''}` +
        (seconds > 0 ? ` (${count(m.rows.read / seconds)} rows/s)` : ''),
    ],
  ]);
}
