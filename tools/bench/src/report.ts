import Table from 'cli-table3';
import type { BenchConfig } from './config.js';
import type { CellResult, ScenarioOutcome } from './runner.js';
import type { TargetResult } from './targets.js';

/** A model line for the report: `tiny: 30→64→64→1, single row 0.221 ms`. */
export interface ModelLine {
  readonly name: string;
  readonly shape: string;
  readonly singleRowMs: number;
}

/** Everything a report shows. */
export interface ReportInput {
  readonly machine: string;
  readonly config: BenchConfig;
  readonly models: readonly ModelLine[];
  readonly outcomes: readonly ScenarioOutcome[];
  readonly targets: readonly TargetResult[];
}

/** `12,345` */
export function formatRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US');
}

/** Milliseconds with about three significant digits: `0.215`, `4.27`, `61.3`, `1,204`. */
export function formatMs(ms: number): string {
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return Math.round(ms).toLocaleString('en-US');
}

function formatPercent(value: number | undefined): string {
  return value === undefined ? '–' : `${Math.round(value)}%`;
}

function formatRatio(value: number): string {
  return value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

const headings = [
  'scenario',
  'in flight',
  'req/s',
  'p50 ms',
  'p99 ms',
  'server CPU',
  'server µs/req',
  'client CPU',
  'other CPU',
  'req/resp B',
];
const blank = headings.slice(3).map(() => '');

function cellRow(cell: CellResult): string[] {
  const load = cell.load;
  if (!cell.ok || !load) return [cell.label, String(cell.concurrency), 'error', ...blank];
  const bytes = load.requestBytes !== undefined ? `${load.requestBytes}/${load.responseBytes ?? '?'}` : '–';
  return [
    cell.label,
    String(cell.concurrency),
    formatRate(cell.throughputPerSecond),
    formatMs(load.latency.p50Ms),
    formatMs(load.latency.p99Ms),
    formatPercent(cell.serverCpuPercent),
    cell.serverCpuPercent === undefined || cell.throughputPerSecond <= 0
      ? '–'
      : Math.round((cell.serverCpuPercent * 10_000) / cell.throughputPerSecond).toLocaleString('en-US'),
    formatPercent(load.clientCpuPercent),
    `${formatPercent(cell.otherCpuPercent)}${(cell.otherCpuPercent ?? 0) > DISTURBED_CPU_PERCENT ? ' !' : ''}`,
    bytes,
  ];
}

function groups(outcomes: readonly ScenarioOutcome[]): Map<string, ScenarioOutcome[]> {
  const byGroup = new Map<string, ScenarioOutcome[]>();
  for (const outcome of outcomes) {
    byGroup.set(outcome.group, [...(byGroup.get(outcome.group) ?? []), outcome]);
  }
  return byGroup;
}

function problems(outcomes: readonly ScenarioOutcome[]): string[] {
  return outcomes.flatMap((o) => [
    ...(o.error ? [`${o.label}: ${o.error}`] : []),
    ...o.cells.filter((c) => c.error).map((c) => `${o.label} @${c.concurrency}: ${c.error}`),
  ]);
}

/** Other processes using more than this (% of one core) during a window make its numbers suspect. */
export const DISTURBED_CPU_PERCENT = 25;

/** A warning when other processes competed for the CPU during some windows. */
export function disturbance(outcomes: readonly ScenarioOutcome[]): string | undefined {
  const cells = outcomes.flatMap((o) => o.cells);
  const disturbed = cells.filter((c) => (c.otherCpuPercent ?? 0) > DISTURBED_CPU_PERCENT);
  if (disturbed.length === 0) return undefined;
  const worst = Math.max(...disturbed.map((c) => c.otherCpuPercent ?? 0));
  return (
    `other processes used > ${DISTURBED_CPU_PERCENT}% of a core during ${disturbed.length} of ${cells.length} windows ` +
    `(up to ${Math.round(worst)}%, marked !): those numbers are disturbed; rerun on a quiet machine`
  );
}

function groupTitle(group: string, models: readonly ModelLine[]): string {
  const model = models.find((m) => group.startsWith(`${m.name} `) || group === m.name);
  return model
    ? `${group}: ${model.shape}, single row ${formatMs(model.singleRowMs)} ms (median) in onnxruntime`
    : group;
}

const statisticName = { p50Ms: 'p50', p99Ms: 'p99' } as const;

/**
 * The numbers behind a verdict: `on 2,500 req/s vs off 1,000 req/s`, or for a latency target
 * `router/fraud @1 p50 1.90 ms vs bound 2.30 ms = 1.3 × (3 × 0.450 ms grpc-echo/router @1 + ...)`.
 */
export function targetDetail(target: TargetResult): string | undefined {
  if (target.latency) {
    const { latency } = target;
    const name = statisticName[latency.statistic];
    const terms = latency.terms
      .map((t) => `${t.weight} × ${formatMs(t.ms)} ms ${t.cell.scenario} @${t.cell.concurrency}`)
      .join(' + ');
    return (
      `${latency.cell.scenario} @${latency.cell.concurrency} ${name} ${formatMs(latency.measuredMs)} ms ` +
      `vs bound ${formatMs(latency.boundMs)} ms = ${latency.factor} × (${terms})`
    );
  }
  if (!target.best || !target.baseline) return undefined;
  return (
    `${target.best.scenario} ${formatRate(target.best.throughputPerSecond)} req/s vs ` +
    `${target.baseline.scenario} ${formatRate(target.baseline.throughputPerSecond)} req/s`
  );
}

/** `PASS  tiny @64: ...  0.91 (≥ 0.80): worker, batching on 12,000 req/s vs bare grpc-js echo 13,100 req/s` */
export function formatTarget(target: TargetResult): string {
  if (target.verdict === 'N/A' || target.ratio === undefined) {
    return `N/A   ${target.description}: ${target.missing ?? 'not measured'}`;
  }
  return (
    `${target.verdict.padEnd(5)} ${target.description}: ${formatRatio(target.ratio)} (needs ≥ ${formatRatio(target.minRatio)}): ` +
    (targetDetail(target) ?? '')
  );
}

/**
 * CPU by process for cells of systems made of several processes:
 * `router @64: router 93%, features 41%, worker 28%, monitor 12%, registry 1%, load generator 30%`.
 */
export function processCpuLines(outcomes: readonly ScenarioOutcome[]): string[] {
  return outcomes.flatMap((o) =>
    o.cells
      .filter((c) => c.processCpuPercent && c.load)
      .map((c) => {
        const parts = Object.entries(c.processCpuPercent!)
          .sort(([, a], [, b]) => b - a)
          .map(([name, percent]) => `${name} ${formatPercent(percent)}`);
        parts.push(`load generator ${formatPercent(c.load!.clientCpuPercent)}`);
        return `CPU by process, ${o.label} @${c.concurrency}: ${parts.join(', ')}`;
      }),
  );
}

function methodLine(config: BenchConfig): string {
  return (
    `closed loop, ${config.windowMs / 1000} s window per cell after ${config.warmupMs / 1000} s warm-up, ` +
    `gRPC load over ${config.channels} channels; the load generator is its own process on the same cores ` +
    `as the server, costing the same in every scenario, so ratios are fair and absolute rates are lower ` +
    `than with a separate client machine`
  );
}

/** The console report: machine, one table per group, problems, targets. */
export function renderConsole(input: ReportInput): string {
  const out: string[] = [`machine: ${input.machine}`, `method:  ${methodLine(input.config)}`, ''];
  for (const [group, outcomes] of groups(input.outcomes)) {
    const table = new Table({
      head: headings,
      colAligns: ['left', ...headings.slice(1).map(() => 'right' as const)],
      // No colours: the output is read in CI logs and pasted into issues.
      style: { head: [], border: [] },
    });
    for (const outcome of outcomes) {
      if (outcome.error) table.push([outcome.label, '', 'setup failed', ...blank]);
      for (const cell of outcome.cells) table.push(cellRow(cell));
    }
    out.push(groupTitle(group, input.models), table.toString());
    for (const note of outcomes.flatMap((o) => o.notes)) out.push(`  note: ${note}`);
    for (const line of processCpuLines(outcomes)) out.push(`  ${line}`);
    out.push('');
  }
  const failures = problems(input.outcomes);
  if (failures.length > 0) out.push('errors:', ...failures.map((f) => `  ${f}`), '');
  const warning = disturbance(input.outcomes);
  if (warning) out.push(`warning: ${warning}`, '');
  out.push('targets:', ...input.targets.map((t) => `  ${formatTarget(t)}`));
  return out.join('\n');
}

function markdownRow(cells: readonly string[]): string {
  return `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
}

/** The markdown report (`.bench/results.md`), for the README to quote. */
export function renderMarkdown(input: ReportInput): string {
  const out: string[] = [
    '# Slipway benchmark',
    '',
    `Machine: ${input.machine}.`,
    '',
    `Method: ${methodLine(input.config)}.`,
    '',
  ];
  for (const [group, outcomes] of groups(input.outcomes)) {
    out.push(`## ${groupTitle(group, input.models)}`, '', markdownRow(headings));
    out.push(markdownRow(headings.map((_, i) => (i === 0 ? '---' : '---:'))));
    for (const outcome of outcomes) {
      if (outcome.error) out.push(markdownRow([outcome.label, '', 'setup failed', ...blank]));
      for (const cell of outcome.cells) out.push(markdownRow(cellRow(cell)));
    }
    out.push('');
    const notes = [...outcomes.flatMap((o) => o.notes), ...processCpuLines(outcomes)];
    if (notes.length > 0) out.push(...notes.map((note) => `- ${note}`), '');
  }
  const failures = problems(input.outcomes);
  if (failures.length > 0) out.push('## Errors', '', ...failures.map((f) => `- ${f}`), '');
  const warning = disturbance(input.outcomes);
  if (warning) out.push(`**Warning:** ${warning}.`, '');
  out.push(
    '## Targets',
    '',
    markdownRow(['verdict', 'target', 'ratio', 'needs', 'measured']),
    markdownRow(['---', '---', '---:', '---:', '---']),
  );
  for (const t of input.targets) {
    out.push(
      markdownRow([
        t.verdict,
        t.description,
        t.ratio === undefined ? (t.missing ?? '–') : formatRatio(t.ratio),
        `≥ ${formatRatio(t.minRatio)}`,
        targetDetail(t) ?? '',
      ]),
    );
  }
  return `${out.join('\n')}\n`;
}
