import type { LatencySummary } from '../stats.js';
import type { DriverSpec } from './drivers.js';

/** One cell's load, sent by the orchestrator to a load-generator process. */
export interface LoadJob {
  readonly driver: DriverSpec;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly windowMs: number;
  readonly maxCalls: number;
}

/** What a load generator measured. */
export interface LoadResult {
  readonly completed: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly windowMs: number;
  readonly hitCallLimit: boolean;
  readonly throughputPerSecond: number;
  readonly latency: LatencySummary;
  /** HdrHistogram (microseconds), compressed base64. */
  readonly histogram: string;
  /** CPU the load generator used during the window, in % of one core (200 = two cores busy). */
  readonly clientCpuPercent: number;
  readonly requestBytes: number | undefined;
  readonly responseBytes: number | undefined;
}

/** Messages from a load generator to the orchestrator. */
export type LoadMessage =
  | { readonly type: 'phase'; readonly phase: 'measuring' | 'measured' }
  | { readonly type: 'result'; readonly result: LoadResult }
  | { readonly type: 'error'; readonly message: string };
