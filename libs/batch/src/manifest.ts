import type { Durations, FileState } from './run-files.js';
import type { InputFormat } from './input.js';

/** Format tag of a run manifest. */
export const MANIFEST_FORMAT = 'slipway.batch.manifest/v1';

/**
 * How a run ended: `succeeded`; `failed` (too many rejected rows, or an error — `error` says
 * which); `interrupted` (stopped by a signal after a checkpoint; the same command resumes it).
 */
export type RunStatus = 'succeeded' | 'failed' | 'interrupted';

/** The record of a run, written next to its output as `<output>.manifest.json`. */
export interface RunManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly status: RunStatus;
  /** Why the run failed, or how to resume an interrupted one. */
  readonly error?: string;
  readonly runId: string;
  readonly deployment: string;
  readonly variant: string;
  readonly model: string;
  readonly version: number;
  readonly artifactSha256: string;
  readonly featureSet: { readonly name: string; readonly version: number; readonly contentHash: string };
  /** ISO time of point-in-time features; absent: the online store's latest values. */
  readonly asOf?: string;
  /** ISO time written in every output row. */
  readonly predictionTime: string;
  readonly input: FileState & { readonly path: string; readonly format: InputFormat };
  readonly output: FileState & { readonly path: string };
  readonly rejects: FileState & { readonly path: string };
  readonly rows: { readonly read: number; readonly scored: number; readonly rejected: number };
  /** Largest share of rejected rows the run may have and still succeed. */
  readonly errorBudget: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durations: Durations;
  /** Attempts before the last one (a killed run resumed once: 1). */
  readonly resumes: number;
  /** Rows the last attempt took from its checkpoint (0 when it started from scratch). */
  readonly resumedFromRow: number;
  /** Predictions sent to the monitor (sampled), over every attempt. */
  readonly recordsSampled: number;
  /** Largest resident set size of the last attempt's process, in bytes. */
  readonly peakRssBytes: number;
  readonly warnings: readonly string[];
}
