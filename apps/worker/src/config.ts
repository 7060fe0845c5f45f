import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import {
  addressSchema as address,
  commaListSchema,
  DEFAULT_MAX_MESSAGE_BYTES,
  durationMsSchema,
  loadConfigOrExit,
  type Env,
} from '@slipway/service-kit';
import { z } from 'zod';
import { parseFaults } from './faults.js';

/**
 * The executor used when `SLIPWAY_WORKER_EXECUTOR` is unset: `auto`, i.e. decided per model
 * version by a probe run at load (see `executor-choice.ts`). Measured on 2 cores, neither fixed
 * choice wins: small models run 5-8x faster in-process unbatched and no slower batched, while
 * compute-heavy ones keep the event loop (gRPC I/O) free only in worker threads. The numbers are
 * in apps/worker/README.md, "Executor choice".
 */
export const DEFAULT_EXECUTOR = 'auto' as const;

/** Lease the worker asks the registry for, unless 3 heartbeats take longer. */
export const LEASE_TTL_SECONDS = 10;

const wholeNumber = (what: string, min: number, max: number) =>
  z.coerce.number().int(`expected a whole number of ${what}`).min(min).max(max);

/** `worker-<hostname>-<pid>`, with characters the registry refuses in a worker id replaced. */
export function defaultWorkerId(host = hostname(), pid = process.pid): string {
  const safeHost = host.replace(/[^A-Za-z0-9_.:-]/g, '-').slice(0, 100) || 'host';
  return `worker-${safeHost}-${pid}`;
}

/**
 * The worker's environment, parsed once at start (blank values count as unset). Keys are the
 * variable names; tools (the benchmark, the CLI) start the worker with exactly these.
 */
export const workerConfigSchema = z.object({
  /** Open Inference Protocol listen address. Default 127.0.0.1:7010; port 0 picks a free port. */
  SLIPWAY_WORKER_ADDR: address.default('127.0.0.1:7010'),
  /**
   * A local model repository in Triton's layout, `<name>/<version>/model.onnx` plus an optional
   * `<name>/config.json`. When set the worker runs without a registry and loads every version.
   */
  SLIPWAY_WORKER_MODELS: z.string().trim().min(1).optional(),
  /** Registry to watch when SLIPWAY_WORKER_MODELS is unset. Default 127.0.0.1:7001. */
  SLIPWAY_REGISTRY_ADDR: address.default('127.0.0.1:7001'),
  /** Bearer token with the deployer role, for heartbeats and deregistration. */
  SLIPWAY_WORKER_TOKEN: z.string().trim().min(1).optional(),
  /** Id reported to the registry. Default `worker-<hostname>-<pid>`. */
  SLIPWAY_WORKER_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, {
      error: 'use 1-128 characters of letters, digits, "_", ".", ":" or "-", starting with a letter or digit',
    })
    .default(() => defaultWorkerId()),
  /** Address reported to the registry (what routers dial). Default: the bound address. */
  SLIPWAY_WORKER_ADVERTISE_ADDR: address.optional(),
  /** Artifact cache (`<dir>/artifacts/<sha256>`). Default `.slipway/worker`. */
  SLIPWAY_WORKER_DATA_DIR: z.string().trim().min(1).default('.slipway/worker'),
  /** Only load the variants of these deployments (comma list). Default: every deployment. */
  SLIPWAY_WORKER_DEPLOYMENTS: commaListSchema.optional(),
  /** Heartbeat interval: `2000`, `2s`, ... Default 2000 ms. */
  SLIPWAY_WORKER_HEARTBEAT_MS: durationMsSchema
    .pipe(z.number().min(100, 'heartbeats must be at least 100 ms apart'))
    .default(2000),
  /** Rows one batch may take; `1` or `0` turns dynamic batching off. Default 64. */
  SLIPWAY_WORKER_MAX_BATCH_SIZE: wholeNumber('rows', 0, 1_000_000).default(64),
  /** How long the first queued request waits for others. Default 500 µs. */
  SLIPWAY_WORKER_MAX_QUEUE_DELAY_US: wholeNumber('microseconds', 0, 10_000_000).default(500),
  /**
   * Where sessions run: `in-process`, `worker-threads`, or `auto` (each version by its measured
   * cost). Default {@link DEFAULT_EXECUTOR}.
   */
  SLIPWAY_WORKER_EXECUTOR: z.enum(['auto', 'in-process', 'worker-threads']).default(DEFAULT_EXECUTOR),
  /** Worker threads per model version (worker-threads executor). Default: half the cores. */
  SLIPWAY_WORKER_THREADS: wholeNumber('threads', 1, 256).optional(),
  /**
   * onnxruntime intra-op threads per session; 0 = onnxruntime's own default (one per core).
   * Default 1: the worker parallelises across requests (batching, worker threads) and shares the
   * cores with gRPC, and onnxruntime's spinning pool measured as the largest cost for small models
   * (tiny MLP at 64 in flight: 3,719 → 5,918 req/s with 1 thread, heavy batching 5.8× → 7.4×).
   */
  SLIPWAY_WORKER_INTRA_OP_THREADS: wholeNumber('threads', 0, 256).default(1),
  /** onnxruntime inter-op threads per session. Default: onnxruntime's. */
  SLIPWAY_WORKER_INTER_OP_THREADS: wholeNumber('threads', 0, 256).optional(),
  /** onnxruntime graph optimization level. Default: onnxruntime's (`all`). */
  SLIPWAY_WORKER_GRAPH_OPTIMIZATION: z.enum(['disabled', 'basic', 'extended', 'all']).optional(),
  /** Largest gRPC message received or sent. Default 64 MiB. */
  SLIPWAY_WORKER_MAX_MESSAGE_BYTES: wholeNumber('bytes', 1024, 2 ** 31 - 1).default(
    DEFAULT_MAX_MESSAGE_BYTES,
  ),
  /** Prometheus endpoint; unset = none. */
  SLIPWAY_WORKER_METRICS_ADDR: address.optional(),
  /** Health reports NOT_SERVING this long at shutdown before calls are refused. Default 0. */
  SLIPWAY_WORKER_DRAIN_DELAY_MS: durationMsSchema.default(0),
  /**
   * TEST-ONLY fault injection, `model@version:error=0.2,delay=40;…`: that share of the version's
   * requests fail with INTERNAL and each waits the delay first. For end-to-end tests of canary
   * analysis; never set in production.
   */
  SLIPWAY_WORKER_TEST_FAULTS: z
    .string()
    .trim()
    .optional()
    .superRefine((value, ctx) => {
      try {
        parseFaults(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
});

/** The parsed configuration. */
export type WorkerConfig = z.output<typeof workerConfigSchema>;

/**
 * Folds command-line options into the environment: `--models <dir>` sets SLIPWAY_WORKER_MODELS
 * and `--addr <host:port>` SLIPWAY_WORKER_ADDR (the way `slipway worker --models ./dir` starts it).
 *
 * @throws TypeError on an unknown option.
 */
export function envWithArgs(args: readonly string[], env: Env): Env {
  const { values } = parseArgs({
    args: [...args],
    options: { models: { type: 'string' }, addr: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  return {
    ...env,
    ...(values.models === undefined ? {} : { SLIPWAY_WORKER_MODELS: values.models }),
    ...(values.addr === undefined ? {} : { SLIPWAY_WORKER_ADDR: values.addr }),
  };
}

/**
 * The configuration for `main.ts`: command-line options folded into the environment, then
 * parsed. Prints every problem (or the unknown option) to stderr and exits with status 2.
 */
export function loadWorkerConfigOrExit(args: readonly string[], env: Env = process.env): WorkerConfig {
  let merged: Env;
  try {
    merged = envWithArgs(args, env);
  } catch (err) {
    process.stderr.write(
      `worker: ${(err as Error).message}; the options are --models <dir> and --addr <host:port>\n`,
    );
    return process.exit(2);
  }
  return loadConfigOrExit(workerConfigSchema, 'worker', merged);
}
