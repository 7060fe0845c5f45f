import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTempDir } from '@slipway/testing';
import type { BenchConfig } from './config.js';
import { createBenchContext } from './context.js';
import { describeMachine, formatMachine, type MachineInfo } from './machine.js';
import { prepareModels } from './models.js';
import { formatMs, formatRate, renderMarkdown, type ReportInput } from './report.js';
import { runScenarios, type CellResult, type ScenarioOutcome } from './runner.js';
import type { Scenario } from './scenario.js';
import { evaluateTargets, type TargetResult, type TargetSpec } from './targets.js';

/** Options of {@link runBench}. */
export interface RunBenchOptions {
  readonly config: BenchConfig;
  readonly scenarios: readonly Scenario[];
  readonly targets: readonly TargetSpec[];
  readonly repoRoot: string;
  readonly workerEntry: string;
  readonly log: (line: string) => void;
}

/** Everything a run measured (written to `.bench/results.json`). */
export interface BenchResults {
  readonly version: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly config: BenchConfig;
  readonly models: readonly {
    name: string;
    shape: string;
    singleRowMs: number;
    singleRowP10Ms: number;
    fileBytes: number;
  }[];
  readonly scenarios: readonly ScenarioOutcome[];
  readonly targets: readonly TargetResult[];
  /** True when any scenario or cell failed: the run's exit code is then non-zero. */
  readonly failed: boolean;
}

function progress(cell: CellResult): string {
  const head = `${cell.group} · ${cell.label} · ${cell.concurrency} in flight`;
  if (!cell.ok || !cell.load) return `${head}: ERROR ${cell.error ?? ''}`;
  return `${head}: ${formatRate(cell.throughputPerSecond)} req/s, p50 ${formatMs(cell.load.latency.p50Ms)} ms, p99 ${formatMs(cell.load.latency.p99Ms)} ms`;
}

/** Builds the models, runs the scenarios, evaluates the targets. */
export async function runBench(
  options: RunBenchOptions,
): Promise<{ results: BenchResults; report: ReportInput }> {
  const startedAt = new Date().toISOString();
  const machine = describeMachine(options.repoRoot);
  options.log(`machine: ${formatMachine(machine)}`);
  // Only a hint (a previous run counts too); the "other CPU" column measures each window.
  if (machine.loadAverage > machine.cores) {
    options.log(
      `warning: load average ${machine.loadAverage.toFixed(2)} on ${machine.cores} cores: the machine is busy; watch the “other CPU” column`,
    );
  }
  const workDir = await createTempDir('slipway-bench-');
  try {
    const needsModels = options.scenarios.some((s) => s.models === undefined || s.models.length > 0);
    const models = needsModels
      ? await prepareModels(workDir.path, (line) => options.log(`model ${line}`))
      : [];
    const context = createBenchContext({
      config: options.config,
      models,
      workDir: workDir.path,
      workerEntry: options.workerEntry,
      repoRoot: options.repoRoot,
      log: options.log,
    });
    const outcomes = await runScenarios(options.scenarios, context, (cell) => options.log(progress(cell)));
    const targets = evaluateTargets(
      options.targets,
      outcomes.flatMap((o) => o.cells),
    );
    const modelLines = models.map((m) => ({ name: m.name, shape: m.shape, singleRowMs: m.singleRowMs }));
    const failed = outcomes.some((o) => o.error !== undefined || o.cells.some((c) => !c.ok));
    return {
      results: {
        version: 1,
        startedAt,
        finishedAt: new Date().toISOString(),
        machine,
        config: options.config,
        models: models.map((m) => ({
          name: m.name,
          shape: m.shape,
          singleRowMs: m.singleRowMs,
          singleRowP10Ms: m.singleRowP10Ms,
          fileBytes: m.fileBytes,
        })),
        scenarios: outcomes,
        targets,
        failed,
      },
      report: {
        machine: formatMachine(machine),
        config: options.config,
        models: modelLines,
        outcomes,
        targets,
      },
    };
  } finally {
    await workDir.cleanup();
  }
}

/** Writes `results.json` and `results.md` into `dir`; returns their paths. */
export async function writeResults(
  dir: string,
  results: BenchResults,
  report: ReportInput,
): Promise<{ json: string; markdown: string }> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, 'results.json');
  const markdown = path.join(dir, 'results.md');
  await writeFile(json, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(markdown, renderMarkdown(report));
  return { json, markdown };
}
