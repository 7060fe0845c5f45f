import type { LoadResult } from './load/protocol.js';
import { runLoad } from './load/run-load.js';
import { createCpuSampler } from './process-cpu.js';
import type { BenchContext, Scenario, ScenarioTarget } from './scenario.js';
import type { CellThroughput } from './targets.js';

/** One scenario at one concurrency. */
export interface CellResult extends CellThroughput {
  readonly group: string;
  readonly label: string;
  /** Why the cell has no valid measurement. */
  readonly error?: string;
  readonly load?: LoadResult;
  /** CPU of the server process during the window, % of one core (absent for in-process runs). */
  readonly serverCpuPercent?: number;
  /**
   * With several server processes (ScenarioTarget.processes): each one's CPU during the window,
   * % of one core, by name; `serverCpuPercent` is their sum.
   */
  readonly processCpuPercent?: Readonly<Record<string, number>>;
  /**
   * CPU used during the window by everything but the server and the load generator (% of one
   * core): other processes on the machine disturbing the measurement.
   */
  readonly otherCpuPercent?: number;
}

/** A scenario's cells, or why it could not start. */
export interface ScenarioOutcome {
  readonly id: string;
  readonly group: string;
  readonly label: string;
  readonly cells: readonly CellResult[];
  readonly notes: readonly string[];
  readonly error?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Upper bound on requests per cell: far above any loopback rate, so only a broken clock reaches it. */
const maxCallsPerSecond = 1_000_000;

/**
 * Runs each scenario: sets it up, measures every concurrency in a fresh load-generator process,
 * closes it. A failing scenario or cell is recorded and the run goes on.
 */
export async function runScenarios(
  scenarios: readonly Scenario[],
  context: BenchContext,
  onCell: (cell: CellResult) => void,
): Promise<ScenarioOutcome[]> {
  const { config } = context;
  const outcomes: ScenarioOutcome[] = [];
  for (const scenario of scenarios) {
    const base = { id: scenario.id, group: scenario.group, label: scenario.label };
    let target: ScenarioTarget;
    try {
      target = await scenario.setup(context);
    } catch (error) {
      context.log(`${scenario.id}: setup failed: ${message(error)}`);
      outcomes.push({ ...base, cells: [], notes: [], error: message(error) });
      continue;
    }
    const cells: CellResult[] = [];
    try {
      for (const concurrency of scenario.concurrencies ?? config.concurrencies) {
        const cellBase = { scenario: scenario.id, group: scenario.group, label: scenario.label, concurrency };
        const sampler = createCpuSampler(
          target.processes ??
            (target.serverPid === undefined ? [] : [{ name: 'server', pid: target.serverPid }]),
        );
        let cell: CellResult;
        try {
          const load = await runLoad(
            {
              driver: target.driver,
              concurrency,
              warmupMs: config.warmupMs,
              windowMs: config.windowMs,
              maxCalls: Math.ceil(((config.warmupMs + config.windowMs) / 1000) * maxCallsPerSecond),
            },
            { onPhase: (phase) => (phase === 'measuring' ? sampler.start() : sampler.stop()) },
          );
          const cpu = sampler.stop();
          const serverCpuPercent = cpu.serverPercent;
          const processCpuPercent = target.processes ? cpu.processes : undefined;
          const otherCpuPercent =
            cpu.machinePercent === undefined
              ? undefined
              : Math.max(0, cpu.machinePercent - (serverCpuPercent ?? 0) - load.clientCpuPercent);
          const failed =
            load.errors > 0
              ? `${load.errors} failed requests, e.g. ${load.errorSamples.join(' | ')}`
              : load.completed === 0
                ? 'no request completed inside the window'
                : undefined;
          cell = {
            ...cellBase,
            throughputPerSecond: load.throughputPerSecond,
            ok: failed === undefined,
            ...(failed ? { error: failed } : {}),
            load,
            ...(serverCpuPercent !== undefined ? { serverCpuPercent } : {}),
            ...(processCpuPercent !== undefined ? { processCpuPercent } : {}),
            ...(otherCpuPercent !== undefined ? { otherCpuPercent } : {}),
          };
        } catch (error) {
          cell = { ...cellBase, throughputPerSecond: 0, ok: false, error: message(error) };
        }
        cells.push(cell);
        onCell(cell);
      }
    } finally {
      await target.close();
    }
    outcomes.push({ ...base, cells, notes: target.notes ?? [] });
  }
  return outcomes;
}
