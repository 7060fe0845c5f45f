/**
 * `@slipway/bench`: the benchmark behind `npm run bench` (main.ts). Exported for later scenarios
 * and for tests: the scenario and target types, the default lists, and the pure helpers.
 */
export type { BenchConfig } from './config.js';
export { parseBenchConfig } from './config.js';
export type { BenchContext, Scenario, ScenarioTarget } from './scenario.js';
export type { DriverSpec, GrpcUnaryDriverSpec, OnnxruntimeDriverSpec } from './load/drivers.js';
export type { LoadJob, LoadResult } from './load/protocol.js';
export { runClosedLoop, type ClosedLoopOptions, type ClosedLoopOutcome } from './load/closed-loop.js';
export {
  evaluateTarget,
  evaluateTargets,
  type CellRef,
  type LatencyBound,
  type LatencyTargetSpec,
  type ThroughputTargetSpec,
  type TargetResult,
  type TargetSpec,
  type Verdict,
} from './targets.js';
export { createLatencyHistogram, median, ratio, throughputPerSecond, type LatencySummary } from './stats.js';
export { runBench, writeResults, type BenchResults, type RunBenchOptions } from './bench.js';
export {
  defaultScenarios,
  defaultTargets,
  grpcEchoScenario,
  onnxruntimeScenario,
  ROUTER_IDS,
  routerScenarios,
  routerTargets,
  workerScenario,
} from './scenarios/index.js';
export { startPlatform, type BenchPlatform, type PlatformOptions } from './platform.js';
