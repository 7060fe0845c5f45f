import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startApp, type RunningApp } from '@slipway/testing';
import type { ProcessRef } from './process-cpu.js';

const run = promisify(execFile);

/** Bearer token every platform process accepts (admin) and sends (deployer). */
export const PLATFORM_TOKEN = 'bench-token';
const TOKENS = `${PLATFORM_TOKEN}=bench:admin`;

/** The apps {@link startPlatform} runs, in start order, plus the trainer. */
const APPS = ['apps/registry', 'apps/features', 'apps/monitor', 'apps/worker', 'apps/router', 'tools/train'];

/** Options of {@link startPlatform}. */
export interface PlatformOptions {
  readonly repoRoot: string;
  /** Scratch directory for every process's data; removed by the caller. */
  readonly dir: string;
  /** Rows of demo data the model is trained on. */
  readonly rows: number;
  /** Node options for the worker (`BENCH_WORKER_NODE_ARGS`). */
  readonly workerNodeArgs?: readonly string[];
  /** Extra worker environment (`BENCH_WORKER_ENV`). */
  readonly workerEnv?: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
}

/** A started platform: registry, feature service, monitor, one worker and one router. */
export interface BenchPlatform {
  readonly registry: string;
  readonly features: string;
  readonly monitor: string;
  readonly worker: string;
  readonly router: string;
  /** Every process, by role, for CPU sampling (the router first). */
  readonly processes: readonly ProcessRef[];
  /** Output lines of a process, for error messages. */
  logs(name: string): string[];
  /** Stops every process, front to back. Idempotent. */
  stop(): Promise<void>;
}

const entryOf = (repoRoot: string, app: string): string => path.join(repoRoot, app, 'dist', 'main.js');

/** Fails with the fix when an app the platform needs has not been built. */
export function requirePlatformBuilt(repoRoot: string): void {
  const missing = APPS.map((app) => entryOf(repoRoot, app)).filter((entry) => !existsSync(entry));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: build first (npm run build)`);
}

/**
 * Starts the platform as processes on free loopback ports, the way the end-to-end tests do
 * (`test/e2e/support/platform.ts`): registry, feature service and monitor, the demo model trained
 * from the feature service by `tools/train demo` and deployed as `fraud` (version 1, direct), then
 * one worker and one router, both with their default settings except addresses, data directories
 * and the token. The router sends every prediction record to the monitor. On failure, whatever
 * was started is stopped before the error is thrown.
 */
export async function startPlatform(options: PlatformOptions): Promise<BenchPlatform> {
  requirePlatformBuilt(options.repoRoot);
  const { dir, repoRoot } = options;
  const started: RunningApp[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const app of [...started].reverse()) {
        if (!app.running) continue;
        const result = await app.stop('SIGTERM', 10_000);
        if (result.timedOut) options.log(`${app.name} ignored SIGTERM for 10 s and was killed`);
      }
    })();
    return stopping;
  };
  const start = async (
    name: string,
    app: string,
    addressEnv: string,
    env: Record<string, string>,
    nodeArgs: readonly string[] = [],
  ): Promise<RunningApp> => {
    const running = await startApp({
      name,
      entry: entryOf(repoRoot, app),
      addressEnv,
      env: {
        SLIPWAY_TOKEN: PLATFORM_TOKEN,
        OTEL_SERVICE_NAME: `slipway-${name}`,
        [addressEnv]: '127.0.0.1:0',
        ...env,
      },
      nodeArgs,
      readyTimeoutMs: 60_000,
    });
    started.push(running);
    return running;
  };

  try {
    const registry = await start('registry', 'apps/registry', 'SLIPWAY_REGISTRY_ADDR', {
      SLIPWAY_REGISTRY_DATA_DIR: path.join(dir, 'registry'),
      SLIPWAY_REGISTRY_TOKENS: TOKENS,
    });
    const features = await start('features', 'apps/features', 'SLIPWAY_FEATURES_ADDR', {
      SLIPWAY_FEATURES_DATA_DIR: path.join(dir, 'features'),
      SLIPWAY_FEATURES_TOKENS: TOKENS,
    });
    const monitor = await start('monitor', 'apps/monitor', 'SLIPWAY_MONITOR_ADDR', {
      SLIPWAY_MONITOR_DATA_DIR: path.join(dir, 'monitor'),
      SLIPWAY_MONITOR_TOKENS: TOKENS,
    });

    const trainStarted = performance.now();
    const trainArgs = [
      entryOf(repoRoot, 'tools/train'),
      'demo',
      '--rows',
      String(options.rows),
      '--registry',
      registry.address,
      '--features',
      features.address,
      '--model',
      'fraud',
      '--deploy',
      'fraud',
    ];
    try {
      await run(process.execPath, trainArgs, {
        env: { ...process.env, SLIPWAY_TOKEN: PLATFORM_TOKEN },
        timeout: 300_000,
      });
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`tools/train demo failed:\n${stderr || stdout || String(error)}`, { cause: error });
    }
    options.log(
      `platform: demo model trained on ${options.rows} rows and deployed as "fraud" in ${((performance.now() - trainStarted) / 1000).toFixed(1)} s`,
    );

    const worker = await start(
      'worker',
      'apps/worker',
      'SLIPWAY_WORKER_ADDR',
      {
        SLIPWAY_WORKER_ID: 'bench-worker',
        SLIPWAY_WORKER_DATA_DIR: path.join(dir, 'worker'),
        SLIPWAY_REGISTRY_ADDR: registry.address,
        SLIPWAY_WORKER_TOKEN: PLATFORM_TOKEN,
        ...options.workerEnv,
      },
      options.workerNodeArgs,
    );
    const router = await start(
      'router',
      'apps/router',
      'SLIPWAY_ROUTER_ADDR',
      {
        SLIPWAY_ROUTER_ID: 'bench-router',
        SLIPWAY_ROUTER_DATA_DIR: path.join(dir, 'router'),
        SLIPWAY_ROUTER_TOKEN: PLATFORM_TOKEN,
        SLIPWAY_REGISTRY_ADDR: registry.address,
        SLIPWAY_FEATURES_ADDR: features.address,
        SLIPWAY_MONITOR_ADDR: monitor.address,
        // Experiments, e.g. BENCH_ROUTER_ENV="OTEL_SDK_DISABLED=true SLIPWAY_ROUTER_COALESCE_IN_FLIGHT=4".
        ...Object.fromEntries(
          (process.env['BENCH_ROUTER_ENV'] ?? '')
            .split(/\s+/)
            .filter((kv) => kv.includes('='))
            .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        ),
      },
      // For profiling the router, e.g. BENCH_ROUTER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
      (process.env['BENCH_ROUTER_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean),
    );

    const byName = new Map(started.map((app) => [app.name, app]));
    return {
      registry: registry.address,
      features: features.address,
      monitor: monitor.address,
      worker: worker.address,
      router: router.address,
      processes: [router, features, worker, monitor, registry].map((app) => ({
        name: app.name,
        pid: app.pid,
      })),
      logs: (name) => byName.get(name)?.logs() ?? [],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
