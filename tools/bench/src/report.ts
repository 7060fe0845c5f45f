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

/** `PASS  tiny @64: ...  0.91 (≥ 0.80): worker, batching on 12,000 req/s vs bare grpc-js echo 13,100 req/s` */
export function formatTarget(target: TargetResult): string {
  if (target.verdict === 'N/A' || target.ratio === undefined) {
    return `N/A   ${target.description}: ${target.missing ?? 'not measured'}`;
  }
  const best = target.best!;
  const baseline = target.baseline!;
  return (
    `${target.verdict.padEnd(5)} ${target.description}: ${formatRatio(target.ratio)} (needs ≥ ${formatRatio(target.minRatio)}): ` +
    `${best.scenario} ${formatRate(best.throughputPerSecond)} req/s vs ${baseline.scenario} ${formatRate(baseline.throughputPerSecond)} req/s`
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
  }
  const failures = problems(input.outcomes);
  if (failures.length > 0) out.push('## Errors', '', ...failures.map((f) => `- ${f}`), '');
  const warning = disturbance(input.outcomes);
  if (warning) out.push(`**Warning:** ${warning}.`, '');
  out.push(
    '## Targets',
    '',
    markdownRow(['verdict', 'target', 'ratio', 'needs']),
    markdownRow(['---', '---', '---:', '---:']),
  );
  for (const t of input.targets) {
    out.push(
      markdownRow([
        t.verdict,
        t.description,
        t.ratio === undefined ? (t.missing ?? '–') : formatRatio(t.ratio),
        `≥ ${formatRatio(t.minRatio)}`,
      ]),
    );
  }
  return `${out.join('\n')}\n`;
}
