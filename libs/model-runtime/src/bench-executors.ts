import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { inference } from '@slipway/contracts';
import type { BatcherOptions } from './batcher.js';
import type { ExecutorOptions, SessionConfig } from './executor.js';
import { loadModel, type ModelSource } from './model-loader.js';

/** What to measure. */
export type BenchExecutorsOptions = ModelSource & {
  /** A valid request for the model; it is sent over and over. */
  readonly request: inference.ModelInferRequest;
  /** Measuring time per executor. Default 5000 ms. */
  readonly durationMs?: number;
  /** Requests kept in flight at once (like concurrent gRPC calls). Default 16. */
  readonly concurrency?: number;
  /** Executors to compare. Default: in-process, and worker threads with half the cores. */
  readonly executors?: readonly ExecutorOptions[];
  readonly sessionOptions?: SessionConfig;
  readonly batching?: BatcherOptions;
};

/** One executor's measurements. */
export interface ExecutorBenchResult {
  readonly executor: string;
  readonly requests: number;
  readonly throughputPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  /** How late timers fired on the main thread: what gRPC I/O would wait. */
  readonly eventLoopDelayMs: {
    readonly mean: number;
    readonly p50: number;
    readonly p99: number;
    readonly max: number;
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Measures throughput, latency and main-thread event-loop delay of each executor for one model
 * and request, so the choice between in-process and worker threads is made by measurement.
 * Not run in tests; call it from a benchmark script, e.g.
 * `benchExecutors({ path: 'model.onnx', request, durationMs: 10_000 })`.
 */
export async function benchExecutors(options: BenchExecutorsOptions): Promise<ExecutorBenchResult[]> {
  const durationMs = options.durationMs ?? 5_000;
  const concurrency = options.concurrency ?? 16;
  const executors = options.executors ?? [
    { kind: 'in-process' },
    { kind: 'worker-threads', threads: Math.max(1, Math.floor(availableParallelism() / 2)) },
  ];
  const source: ModelSource = options.bytes ? { bytes: options.bytes } : { path: options.path as string };
  const results: ExecutorBenchResult[] = [];
  for (const executor of executors) {
    const model = await loadModel({
      ...source,
      name: 'bench',
      version: '1',
      executor,
      sessionOptions: options.sessionOptions,
      batching: options.batching,
    });
    try {
      for (let i = 0; i < 10; i++) await model.infer(options.request);
      const latencies: number[] = [];
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const started = performance.now();
      const end = started + durationMs;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end) {
            const t0 = performance.now();
            await model.infer(options.request);
            latencies.push(performance.now() - t0);
          }
        }),
      );
      const elapsed = performance.now() - started;
      delay.disable();
      latencies.sort((a, b) => a - b);
      const ms = (ns: number): number => ns / 1e6;
      results.push({
        executor:
          executor.kind === 'worker-threads'
            ? `worker-threads x${executor.threads ?? 'default'}`
            : executor.kind,
        requests: latencies.length,
        throughputPerSecond: (latencies.length / elapsed) * 1000,
        latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
        eventLoopDelayMs: {
          mean: ms(delay.mean),
          p50: ms(delay.percentile(50)),
          p99: ms(delay.percentile(99)),
          max: ms(delay.max),
        },
      });
    } finally {
      await model.close();
    }
  }
  return results;
}
