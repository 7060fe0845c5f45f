import type { BatcherOptions, ExecutorOptions, SessionConfig } from '@slipway/model-runtime';
import { z } from 'zod';
import type { WorkerConfig } from './config.js';

/** Where sessions run: a fixed executor, or `auto` (chosen per version by a probe run). */
export type ExecutorSetting = ExecutorOptions | { readonly kind: 'auto'; readonly threads?: number };

/** How one model version is run: batching, executor and onnxruntime session options. */
export interface LoadSettings {
  /** Undefined: every request runs alone. */
  readonly batching: BatcherOptions | undefined;
  readonly executor: ExecutorSetting;
  readonly sessionOptions: SessionConfig;
}

/**
 * Per-model overrides, as `<name>/config.json` of a local model repository holds them. Every
 * field is optional; unset fields keep the worker-wide defaults.
 */
export const modelOverridesSchema = z
  .object({
    /** Rows one batch may take; 0 or 1 turns batching off for this model. */
    maxBatchSize: z.number().int().min(0).max(1_000_000).optional(),
    maxQueueDelayMicros: z.number().int().min(0).max(10_000_000).optional(),
    preferredBatchSizes: z.array(z.number().int().min(1)).optional(),
    executor: z.enum(['auto', 'in-process', 'worker-threads']).optional(),
    /** Worker threads (worker-threads executor, or auto when it picks worker threads). */
    threads: z.number().int().min(1).max(256).optional(),
  })
  .strict();

/** Parsed per-model overrides. */
export type ModelOverrides = z.output<typeof modelOverridesSchema>;

/** The worker-wide settings every model starts from. */
export function defaultLoadSettings(config: WorkerConfig): LoadSettings {
  return resolveLoadSettings(config, {});
}

/**
 * Worker-wide defaults from the configuration with a model's overrides applied.
 *
 * @throws RangeError when the result is inconsistent (a preferred batch size above the maximum).
 */
export function resolveLoadSettings(config: WorkerConfig, overrides: ModelOverrides): LoadSettings {
  const maxBatchSize = overrides.maxBatchSize ?? config.SLIPWAY_WORKER_MAX_BATCH_SIZE;
  const maxQueueDelayMicros = overrides.maxQueueDelayMicros ?? config.SLIPWAY_WORKER_MAX_QUEUE_DELAY_US;
  const preferredBatchSizes = overrides.preferredBatchSizes ?? [];
  let batching: BatcherOptions | undefined;
  if (maxBatchSize > 1) {
    const tooLarge = preferredBatchSizes.filter((size) => size > maxBatchSize);
    if (tooLarge.length > 0) {
      throw new RangeError(
        `preferredBatchSizes ${JSON.stringify(tooLarge)} exceed maxBatchSize ${maxBatchSize}`,
      );
    }
    batching = {
      maxBatchSize,
      maxQueueDelayMicros,
      ...(preferredBatchSizes.length > 0 ? { preferredBatchSizes } : {}),
    };
  }
  const kind = overrides.executor ?? config.SLIPWAY_WORKER_EXECUTOR;
  const threads = overrides.threads ?? config.SLIPWAY_WORKER_THREADS;
  const executor: ExecutorSetting =
    kind === 'in-process' ? { kind } : { kind, ...(threads === undefined ? {} : { threads }) };
  const sessionOptions: SessionConfig = {
    ...(config.SLIPWAY_WORKER_INTRA_OP_THREADS === 0
      ? {}
      : { intraOpNumThreads: config.SLIPWAY_WORKER_INTRA_OP_THREADS }),
    ...(config.SLIPWAY_WORKER_INTER_OP_THREADS === undefined
      ? {}
      : { interOpNumThreads: config.SLIPWAY_WORKER_INTER_OP_THREADS }),
    ...(config.SLIPWAY_WORKER_GRAPH_OPTIMIZATION === undefined
      ? {}
      : { graphOptimizationLevel: config.SLIPWAY_WORKER_GRAPH_OPTIMIZATION }),
  };
  return { batching, executor, sessionOptions };
}
