import { z } from 'zod';
import { commaListSchema, parseConfig, type Env } from '@slipway/service-kit';

/** How long and how hard each benchmark cell runs. */
export interface BenchConfig {
  /** Measuring window per cell (`BENCH_SECONDS`; default 5 s, 1 s with `BENCH_QUICK=1`). */
  readonly windowMs: number;
  /** Load before each window, discarded (`BENCH_WARMUP_SECONDS`; default 2 s, 0.5 s quick). */
  readonly warmupMs: number;
  /** gRPC channels (separate TCP connections) the in-flight requests are spread over (`BENCH_CHANNELS`, default 4). */
  readonly channels: number;
  /** Requests kept in flight, one cell each (`BENCH_CONCURRENCY`, default `1,64`). */
  readonly concurrencies: readonly number[];
  /** Only scenarios whose id contains one of these (`BENCH_ONLY`, e.g. `tiny,echo`); empty runs all. */
  readonly only: readonly string[];
  readonly quick: boolean;
  /** Node options for worker processes (`BENCH_WORKER_NODE_ARGS`, e.g. `--cpu-prof --cpu-prof-dir=.bench/prof`). */
  readonly workerNodeArgs: readonly string[];
  /** Extra worker environment (`BENCH_WORKER_ENV`, e.g. `OTEL_SDK_DISABLED=true,SLIPWAY_WORKER_THREADS=2`). */
  readonly workerEnv: Readonly<Record<string, string>>;
}

const positiveSeconds = z.coerce.number().positive().max(600);
const concurrencyList = commaListSchema.pipe(
  z
    .array(z.coerce.number<string>().int().min(1).max(4096))
    .min(1, 'name at least one concurrency, e.g. 1,64'),
);

const schema = z.object({
  BENCH_QUICK: z.enum(['0', '1', 'true', 'false']).default('0'),
  BENCH_SECONDS: positiveSeconds.optional(),
  BENCH_WARMUP_SECONDS: z.coerce.number().min(0).max(600).optional(),
  BENCH_CHANNELS: z.coerce.number().int().min(1).max(64).default(4),
  BENCH_CONCURRENCY: concurrencyList.default([1, 64]),
  BENCH_ONLY: commaListSchema.default([]),
  BENCH_WORKER_NODE_ARGS: z.string().default(''),
  BENCH_WORKER_ENV: commaListSchema
    .pipe(
      z.array(
        z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*=/, 'expected NAME=value items, e.g. OTEL_SDK_DISABLED=true'),
      ),
    )
    .default([]),
});

/**
 * Reads the `BENCH_*` variables. Blank means unset.
 * @throws ConfigError (from @slipway/service-kit) listing every invalid variable.
 */
export function parseBenchConfig(env: Env = process.env): BenchConfig {
  const raw = parseConfig(schema, env);
  const quick = raw.BENCH_QUICK === '1' || raw.BENCH_QUICK === 'true';
  return {
    windowMs: Math.round((raw.BENCH_SECONDS ?? (quick ? 1 : 5)) * 1000),
    warmupMs: Math.round((raw.BENCH_WARMUP_SECONDS ?? (quick ? 0.5 : 2)) * 1000),
    channels: raw.BENCH_CHANNELS,
    concurrencies: [...new Set(raw.BENCH_CONCURRENCY)].sort((a, b) => a - b),
    only: raw.BENCH_ONLY,
    quick,
    workerNodeArgs: raw.BENCH_WORKER_NODE_ARGS.split(/\s+/).filter((arg) => arg !== ''),
    workerEnv: Object.fromEntries(
      raw.BENCH_WORKER_ENV.map((item) => [
        item.slice(0, item.indexOf('=')),
        item.slice(item.indexOf('=') + 1),
      ]),
    ),
  };
}
