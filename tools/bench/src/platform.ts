import { existsSync } from 'node:fs';
import path from 'node:path';
import { PLATFORM_TOKEN, startPlatform as startTestPlatform } from '@slipway/testing';
import type { ProcessRef } from './process-cpu.js';

/** Bearer token every platform process accepts (admin) and sends (deployer). */
export { PLATFORM_TOKEN };

/** The apps {@link startPlatform} runs, plus the trainer. */
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

/** Fails with the fix when an app the platform needs has not been built. */
export function requirePlatformBuilt(repoRoot: string): void {
  const missing = APPS.map((app) => path.join(repoRoot, app, 'dist', 'main.js')).filter(
    (entry) => !existsSync(entry),
  );
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: build first (npm run build)`);
}

/** `KEY=value KEY2=value2` → an environment object (for the BENCH_ROUTER_ENV experiments). */
function parseEnvList(text: string | undefined): Record<string, string> {
  return Object.fromEntries(
    (text ?? '')
      .split(/\s+/)
      .filter((kv) => kv.includes('='))
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/**
 * Starts the platform the way the end-to-end tests do (libs/testing `startPlatform`): registry,
 * feature service and monitor, the demo model trained from the feature service and deployed as
 * `fraud`, then one worker and one router with their default settings (heartbeats included)
 * except addresses, data directories and the token. The router sends every prediction record to
 * the monitor. For experiments: `BENCH_ROUTER_ENV="OTEL_SDK_DISABLED=true …"` adds router
 * environment, `BENCH_ROUTER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` Node options.
 */
export async function startPlatform(options: PlatformOptions): Promise<BenchPlatform> {
  requirePlatformBuilt(options.repoRoot);
  const trainStarted = performance.now();
  const platform = await startTestPlatform({
    dir: options.dir,
    rows: options.rows,
    workers: 1,
    routers: 1,
    heartbeat: '2s',
    workerEnv: options.workerEnv,
    workerNodeArgs: options.workerNodeArgs,
    routerEnv: parseEnvList(process.env['BENCH_ROUTER_ENV']),
    routerNodeArgs: (process.env['BENCH_ROUTER_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean),
  });
  options.log(
    `platform: started, demo model trained on ${options.rows} rows and deployed as "fraud", in ${((performance.now() - trainStarted) / 1000).toFixed(1)} s`,
  );
  const router = platform.routers[0]!;
  const worker = platform.workers[0]!;
  const monitor = platform.monitor!;
  const roles: Array<[string, (typeof platform.apps)[number]]> = [
    ['router', router],
    ['features', platform.features],
    ['worker', worker],
    ['monitor', monitor],
    ['registry', platform.registry],
  ];
  const byRole = new Map(roles);
  return {
    registry: platform.registry.address,
    features: platform.features.address,
    monitor: monitor.address,
    worker: worker.address,
    router: router.address,
    processes: roles.map(([name, app]) => ({ name, pid: app.pid })),
    logs: (name) => byRole.get(name)?.logs() ?? [],
    stop: () => platform.stop(),
  };
}
