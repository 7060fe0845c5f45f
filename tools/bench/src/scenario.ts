import type { BenchConfig } from './config.js';
import type { DriverSpec } from './load/drivers.js';
import type { BenchModel } from './models.js';
import type { ProcessRef } from './process-cpu.js';

/**
 * A system under test, measured at several concurrencies (one cell each). Scenarios are plain
 * objects in a list (scenarios/index.ts): a new one (router, features, batch, stream...) is a new
 * module returning `Scenario`s, and a new kind of load is a new {@link DriverSpec}.
 */
export interface Scenario {
  /** Stable id, used in results.json and by targets: `worker-batching/tiny`. */
  readonly id: string;
  /** The table it is printed in, e.g. `tiny model`. */
  readonly group: string;
  /** Row label, e.g. `worker, batching on`. */
  readonly label: string;
  /**
   * Benchmark models (models.ts: `tiny`, `heavy`) the scenario reads from the context; unset means
   * any. When every selected scenario names none, the run skips building and timing them.
   */
  readonly models?: readonly string[];
  /** Concurrencies to measure; default the configured ones (`BENCH_CONCURRENCY`). */
  readonly concurrencies?: readonly number[];
  /** Starts what is measured (processes, sessions) and says how to load it. */
  setup(context: BenchContext): Promise<ScenarioTarget>;
}

/** A started system under test. */
export interface ScenarioTarget {
  /** What the load generator calls. */
  readonly driver: DriverSpec;
  /** Process whose CPU is sampled during each window (the server), when there is one. */
  readonly serverPid?: number;
  /**
   * Every process of the system under test when it is several (a router and the services behind
   * it); replaces `serverPid`. Their CPU is summed into the cell's server CPU and also reported
   * one by one, so the busiest process shows.
   */
  readonly processes?: readonly ProcessRef[];
  /** Facts to print under the table (e.g. a server's effective settings). */
  readonly notes?: readonly string[];
  /** Stops everything `setup` started. Idempotent. */
  close(): Promise<void>;
}

/** What scenarios share within one run. */
export interface BenchContext {
  readonly config: BenchConfig;
  readonly models: ReadonlyMap<string, BenchModel>;
  /** A scratch directory removed at the end of the run. */
  readonly workDir: string;
  /** Absolute path of the built worker entry. */
  readonly workerEntry: string;
  /** The repository root: built apps are at `<repoRoot>/apps/<app>/dist/main.js`. */
  readonly repoRoot: string;
  /** Size of the worker's encoded ModelInferResponse for a model (memoized; see context.ts). */
  workerResponseBytes(model: BenchModel): Promise<number>;
  /** Records a fact learned while setting up, e.g. the response size the worker returned. */
  rememberResponseBytes(model: BenchModel, bytes: number): void;
  log(line: string): void;
}

/** Looks a model up, with a clear message when a scenario names one that was not built. */
export function modelOf(context: BenchContext, name: string): BenchModel {
  const model = context.models.get(name);
  if (!model)
    throw new Error(`no benchmark model "${name}" (built: ${[...context.models.keys()].join(', ')})`);
  return model;
}
