import type { monitor } from '@slipway/contracts';
import { UnavailableError } from '@slipway/service-kit';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { RouterUnavailableError, UsageError } from '../exit-codes.js';
import { formatTime, printFields, printJson, printTable } from '../output.js';
import type { Run } from '../run.js';

/**
 * The monitor (not the registry) is unavailable. A RouterUnavailableError because `run` prints
 * that class's message as it is instead of blaming the registry.
 */
export class MonitorUnavailableError extends RouterUnavailableError {}

/** Calls the monitor; an unreachable monitor is reported with its address and how to set it. */
export async function askMonitor<T>(
  ctx: CliContext,
  call: (client: ReturnType<CliContext['monitor']>) => Promise<T>,
): Promise<T> {
  try {
    return await call(ctx.monitor());
  } catch (err) {
    if (err instanceof UnavailableError) {
      throw new MonitorUnavailableError(
        `cannot reach the monitor at ${ctx.monitorAddress} (is \`npm start\` running? set SLIPWAY_MONITOR_ADDR or --monitor): ${err.message}`,
        { cause: err },
      );
    }
    throw err;
  }
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `90s`, `15m`, `1h`, `7d`, or a number of seconds: a duration in whole seconds (≥ 1). */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * UNITS[match[2] || 's']! : NaN;
  if (!(seconds >= 1 && seconds <= 0xffff_ffff))
    throw new UsageError(`${flag} "${text}" is not a duration such as 90s, 15m, 1h or 7d`);
  return seconds;
}

/** A number to `digits` decimals; `-` when it is not a number (the monitor's "no data"). */
export function formatNumber(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

/** A share as a percentage, `-` when it is not a number. */
export function formatPercent(value: number, digits = 1): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(digits)}%` : '-';
}

/** A p-value: 4 decimals, `<0.0001` below that. */
export function formatPValue(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return value < 0.0001 ? '<0.0001' : value.toFixed(4);
}

/** Milliseconds, `-` when not a number. */
export function formatMs(value: number): string {
  return Number.isFinite(value) ? `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms` : '-';
}

/** `2030-01-01T10:00:00Z → 11:00:00Z`. */
export function formatRange(start: Date | undefined, end: Date | undefined): string {
  const from = formatTime(start);
  const to = formatTime(end);
  return from.slice(0, 10) === to.slice(0, 10) ? `${from} → ${to.slice(11)}` : `${from} → ${to}`;
}

/** Window and variant options, as commander collects them. */
interface WindowOptions {
  window?: string;
  variant?: string;
  bucket?: string;
}

/** `--window` in seconds; 0 (the monitor's default) when not given. */
export const windowSeconds = (opts: { window?: string }): number =>
  opts.window === undefined ? 0 : parseDuration(opts.window, '--window');

/** The health table of a GetHealth answer. */
export function printHealth(response: monitor.GetHealthResponse): void {
  printFields([
    ['deployment', response.deployment],
    ['window', formatRange(response.windowStart, response.windowEnd)],
  ]);
  process.stdout.write('\n');
  if (response.variants.length === 0) {
    process.stdout.write('no requests in the window\n');
    return;
  }
  printTable(
    [
      'variant',
      'version',
      'requests',
      'req/s',
      'errors',
      'error rate',
      'timeouts',
      'p50',
      'p95',
      'p99',
      'failures',
    ],
    response.variants.map((v) => [
      v.shadow ? `${v.variant} (shadow)` : v.variant,
      `${v.model}@${v.version}`,
      String(v.requests),
      v.requestsPerSecond.toFixed(2),
      String(v.errors),
      formatPercent(v.errorRate, 2),
      String(v.timeouts),
      formatMs(v.p50Ms),
      formatMs(v.p95Ms),
      formatMs(v.p99Ms),
      Object.entries(v.byStatus)
        .filter(([status]) => status !== 'OK')
        .map(([status, n]) => `${status} ${n}`)
        .join(', '),
    ]),
  );
}

function driftRow(f: monitor.FeatureDrift): string[] {
  return [
    f.feature,
    f.method,
    formatNumber(f.statistic, 4),
    formatPValue(f.pValue),
    formatNumber(f.psi, 4),
    formatNumber(f.threshold, 2),
    String(f.samples),
    f.status,
  ];
}

/** The per-feature table of a GetDrift answer. */
export function printDrift(response: monitor.GetDriftResponse): void {
  printFields([
    ['deployment', response.deployment],
    ['variant', `${response.variant} (${response.model}@${response.version})`],
    ['window', formatRange(response.windowStart, response.windowEnd)],
    ['samples', String(response.samples)],
    ['drifted', response.drifted ? 'yes' : 'no'],
    ['p-values', `corrected by ${response.correction}`],
  ]);
  process.stdout.write('\n');
  const rows = response.features.map(driftRow);
  if (response.prediction) rows.push(driftRow({ ...response.prediction, feature: '(prediction)' }));
  printTable(
    ['feature', 'method', 'statistic', 'p-value', 'distance', 'threshold', 'samples', 'status'],
    rows,
  );
}

function performanceRow(label: string, w: monitor.PerformanceWindow): string[] {
  return [
    label,
    String(w.predictions),
    String(w.labelled),
    formatPercent(w.labelCoverage),
    formatNumber(w.auc),
    formatNumber(w.logLoss),
    formatNumber(w.accuracy),
    formatNumber(w.precision),
    formatNumber(w.recall),
    formatNumber(w.calibrationError),
  ];
}

/** The per-bucket table of a GetPerformance answer. */
export function printPerformance(response: monitor.GetPerformanceResponse, variant: string): void {
  const total = response.total!;
  printFields([
    ['deployment', response.deployment],
    ['variant', variant || 'all primary variants'],
    ['window', formatRange(total.start, total.end)],
    ['threshold', String(total.threshold)],
  ]);
  process.stdout.write('\n');
  const rows =
    response.windows.length > 1
      ? response.windows.map((w) => performanceRow(formatRange(w.start, w.end), w))
      : [];
  rows.push(performanceRow('total', total));
  printTable(
    [
      'window',
      'predictions',
      'labelled',
      'coverage',
      'auc',
      'log loss',
      'accuracy',
      'precision',
      'recall',
      'ece',
    ],
    rows,
  );
}

/** `slipway monitor health|drift|performance`. */
export function monitorCommands(program: Command, run: Run): void {
  const group = program
    .command('monitor')
    .description("a deployment's health, drift and model performance, from the monitor's records");
  group
    .command('health <deployment>')
    .description('requests, errors, timeouts and latency percentiles per variant')
    .option('--window <duration>', 'how far back, e.g. 15m, 1h, 7d (default 1h)')
    .action(
      run(async (ctx, cmd) => {
        const opts = cmd.opts<WindowOptions>();
        const request = { deployment: String(cmd.args[0]), windowSeconds: windowSeconds(opts) };
        const response = await askMonitor(ctx, (m) => m.getHealth(request));
        if (ctx.json) return printJson(response);
        printHealth(response);
      }),
    );
  group
    .command('drift <deployment>')
    .description("feature and prediction drift against the serving version's reference profile")
    .option('--variant <name>', 'the variant to check (default: the stable one)')
    .option('--window <duration>', 'how far back, e.g. 15m, 1h, 1d (default 1h)')
    .action(
      run(async (ctx, cmd) => {
        const opts = cmd.opts<WindowOptions>();
        const request = {
          deployment: String(cmd.args[0]),
          variant: opts.variant ?? '',
          windowSeconds: windowSeconds(opts),
        };
        const response = await askMonitor(ctx, (m) => m.getDrift(request));
        if (ctx.json) return printJson(response);
        printDrift(response);
      }),
    );
  group
    .command('performance <deployment>')
    .description('AUC, log loss, accuracy, precision, recall and calibration from delayed labels')
    .option('--variant <name>', 'one variant (default: every primary variant together)')
    .option('--window <duration>', 'how far back, e.g. 6h, 1d, 7d (default 1d)')
    .option('--bucket <duration>', 'also per bucket of prediction time, e.g. 1h')
    .action(
      run(async (ctx, cmd) => {
        const opts = cmd.opts<WindowOptions>();
        const request = {
          deployment: String(cmd.args[0]),
          variant: opts.variant ?? '',
          windowSeconds: windowSeconds(opts),
          bucketSeconds: opts.bucket === undefined ? 0 : parseDuration(opts.bucket, '--bucket'),
        };
        const response = await askMonitor(ctx, (m) => m.getPerformance(request));
        if (ctx.json) return printJson(response);
        printPerformance(response, request.variant);
      }),
    );
}
