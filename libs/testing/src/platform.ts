// A whole Slipway platform as real processes on free loopback ports — registry, feature service,
// monitor, workers and routers — with the demo model trained from the feature service and
// deployed as `fraud`. One recipe for the end-to-end tests, the benchmark and library tests.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { registry, type serving } from '@slipway/contracts';
import { createClient } from '@slipway/service-kit';
import { ensureBuilt, repoRoot } from './build.js';
import { startApp, type RunningApp } from './app.js';
import { createTempDir } from './temp-dir.js';

const run = promisify(execFile);

/** The admin token every process of a test platform accepts. */
export const PLATFORM_TOKEN = 'platform-token';
const TOKENS = `${PLATFORM_TOKEN}=platform:admin`;

const entry = (app: string): string => path.join(repoRoot, app, 'dist/main.js');

/** What {@link startPlatform} runs. */
export const PLATFORM_PROJECTS = [
  'apps/registry',
  'apps/features',
  'apps/worker',
  'apps/monitor',
  'apps/router',
  'tools/train',
  'apps/cli',
] as const;

/** Builds what {@link startPlatform} runs, when out of date (call from beforeAll). */
export async function buildPlatform(projects: readonly string[] = PLATFORM_PROJECTS): Promise<void> {
  for (const project of projects) await ensureBuilt(project);
}

/**
 * A demo Predict request: user `u<i % 1000>` with request-time amount, hour of day and merchant
 * risk; `version` 0 lets the deployment's strategy choose.
 */
export function demoTransaction(i: number, deployment = 'fraud', version = 0): serving.PredictRequest {
  return {
    deployment,
    entityKeys: { userId: `u${i % 1000}` },
    values: {
      amount: { kind: { $case: 'number', number: 10 + (i % 400) } },
      hourOfDay: { kind: { $case: 'number', number: i % 24 } },
      merchantRisk: { kind: { $case: 'number', number: (i % 10) / 10 } },
    },
    version,
  };
}

/** Options of {@link startPlatform}. */
export interface PlatformOptions {
  /** Worker replicas (default 1; 0 for none). */
  readonly workers?: number;
  /** Router replicas (default 1; 0 for none). */
  readonly routers?: number;
  /** Start the monitor (default true). */
  readonly monitor?: boolean;
  /** Rows of demo data the model is trained on (default 2000). */
  readonly rows?: number;
  /** Extra environment for every process (e.g. OTEL_* for trace tests). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra environment and Node options for the workers and the routers. */
  readonly workerEnv?: Readonly<Record<string, string>>;
  readonly workerNodeArgs?: readonly string[];
  readonly routerEnv?: Readonly<Record<string, string>>;
  readonly routerNodeArgs?: readonly string[];
  /** Heartbeat period of workers and routers (default 500 ms: fast convergence in tests). */
  readonly heartbeat?: string;
  /** Default: a temporary directory removed after the test. */
  readonly dir?: string;
}

/** A started platform. */
export interface Platform {
  readonly dir: string;
  readonly token: string;
  readonly registry: RunningApp;
  readonly features: RunningApp;
  readonly monitor: RunningApp | undefined;
  readonly workers: RunningApp[];
  readonly routers: RunningApp[];
  /** Every process started so far, in start order. */
  readonly apps: RunningApp[];
  /** Starts one more router replica. */
  startRouter(id?: string): Promise<RunningApp>;
  /** Registers another version of `fraud` from version 1's artifact and lineage; its number. */
  copyVersion(): Promise<number>;
  /** Runs `slipway <args>` against this platform; resolves with stdout. */
  cli(...args: string[]): Promise<string>;
  /** Stops every process, front to back. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the registry, the feature service and the monitor, trains the demo model on the feature
 * service's point-in-time rows and deploys it as `fraud` (version 1, direct), then starts the
 * workers and the routers. On failure, whatever was started is stopped.
 */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const dir = options.dir ?? (await createTempDir('slipway-platform-')).path;
  const common = { SLIPWAY_TOKEN: PLATFORM_TOKEN, ...options.env };
  const heartbeat = options.heartbeat ?? '500';
  const apps: RunningApp[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const app of [...apps].reverse()) if (app.running) await app.stop();
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
      entry: entry(app),
      addressEnv,
      env: {
        ...common,
        OTEL_SERVICE_NAME: `slipway-${app.split('/')[1]}`,
        [addressEnv]: '127.0.0.1:0',
        ...env,
      },
      nodeArgs,
      readyTimeoutMs: 60_000,
    });
    apps.push(running);
    return running;
  };

  try {
    const registryApp = await start('registry', 'apps/registry', 'SLIPWAY_REGISTRY_ADDR', {
      SLIPWAY_REGISTRY_DATA_DIR: path.join(dir, 'registry'),
      SLIPWAY_REGISTRY_TOKENS: TOKENS,
    });
    const featuresApp = await start('features', 'apps/features', 'SLIPWAY_FEATURES_ADDR', {
      SLIPWAY_FEATURES_DATA_DIR: path.join(dir, 'features'),
      SLIPWAY_FEATURES_TOKENS: TOKENS,
    });
    const monitorApp =
      options.monitor === false
        ? undefined
        : await start('monitor', 'apps/monitor', 'SLIPWAY_MONITOR_ADDR', {
            SLIPWAY_MONITOR_DATA_DIR: path.join(dir, 'monitor'),
            SLIPWAY_MONITOR_TOKENS: TOKENS,
            SLIPWAY_REGISTRY_ADDR: registryApp.address,
            SLIPWAY_MONITOR_TOKEN: PLATFORM_TOKEN,
            SLIPWAY_MONITOR_ANALYSIS_TICK_MS: '200',
          });

    try {
      await run(
        process.execPath,
        [
          entry('tools/train'),
          'demo',
          '--rows',
          String(options.rows ?? 2000),
          '--registry',
          registryApp.address,
          '--features',
          featuresApp.address,
          '--model',
          'fraud',
          '--deploy',
          'fraud',
        ],
        { env: { PATH: process.env['PATH'] ?? '', SLIPWAY_TOKEN: PLATFORM_TOKEN }, timeout: 300_000 },
      );
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`tools/train demo failed:\n${stderr || stdout || String(error)}`, { cause: error });
    }

    const workers: RunningApp[] = [];
    for (let i = 0; i < (options.workers ?? 1); i++) {
      workers.push(
        await start(
          `worker-${i + 1}`,
          'apps/worker',
          'SLIPWAY_WORKER_ADDR',
          {
            SLIPWAY_WORKER_ID: `worker-${i + 1}`,
            SLIPWAY_WORKER_DATA_DIR: path.join(dir, `worker-${i + 1}`),
            SLIPWAY_REGISTRY_ADDR: registryApp.address,
            SLIPWAY_WORKER_TOKEN: PLATFORM_TOKEN,
            SLIPWAY_WORKER_HEARTBEAT_MS: heartbeat,
            ...options.workerEnv,
          },
          options.workerNodeArgs,
        ),
      );
    }

    const routers: RunningApp[] = [];
    const startRouter = async (id = `router-${routers.length + 1}`): Promise<RunningApp> => {
      const app = await start(
        id,
        'apps/router',
        'SLIPWAY_ROUTER_ADDR',
        {
          SLIPWAY_ROUTER_ID: id,
          SLIPWAY_ROUTER_DATA_DIR: path.join(dir, id),
          SLIPWAY_ROUTER_TOKEN: PLATFORM_TOKEN,
          SLIPWAY_REGISTRY_ADDR: registryApp.address,
          SLIPWAY_FEATURES_ADDR: featuresApp.address,
          ...(monitorApp ? { SLIPWAY_MONITOR_ADDR: monitorApp.address } : {}),
          SLIPWAY_ROUTER_HEARTBEAT_MS: heartbeat,
          ...options.routerEnv,
        },
        options.routerNodeArgs,
      );
      routers.push(app);
      return app;
    };
    for (let i = 0; i < (options.routers ?? 1); i++) await startRouter();

    const copyVersion = async (): Promise<number> => {
      const models = createClient(registry.ModelServiceService, registryApp.address, {
        token: PLATFORM_TOKEN,
      });
      try {
        const { version: v1 } = await models.getModelVersion({ model: 'fraud', version: 1, alias: '' });
        const chunks: Uint8Array[] = [];
        for await (const part of models.downloadArtifact({ model: 'fraud', version: 1, sha256: '' })) {
          if (part.part?.$case === 'chunk') chunks.push(part.part.chunk);
        }
        const bytes = Buffer.concat(chunks);
        async function* parts(): AsyncIterable<registry.RegisterModelVersionRequest> {
          yield {
            part: {
              $case: 'header',
              header: {
                model: 'fraud',
                sha256: createHash('sha256').update(bytes).digest('hex'),
                size: BigInt(bytes.length),
                lineage: { ...v1!.lineage!, parentVersion: 1 },
                description: 'a copy of version 1',
                tags: {},
              },
            },
          };
          yield { part: { $case: 'chunk', chunk: bytes } };
        }
        const { version } = await models.registerModelVersion(parts());
        return version!.version;
      } finally {
        models.close();
      }
    };

    const cli = async (...args: string[]): Promise<string> => {
      const { stdout } = await run(process.execPath, [path.join(repoRoot, 'apps/cli/dist/bin.js'), ...args], {
        env: {
          ...process.env,
          SLIPWAY_TOKEN: PLATFORM_TOKEN,
          SLIPWAY_REGISTRY_ADDR: registryApp.address,
          SLIPWAY_ROUTER_ADDR: routers[0]?.address ?? '',
          ...(monitorApp ? { SLIPWAY_MONITOR_ADDR: monitorApp.address } : {}),
        },
      });
      return stdout;
    };

    return {
      dir,
      token: PLATFORM_TOKEN,
      registry: registryApp,
      features: featuresApp,
      monitor: monitorApp,
      workers,
      routers,
      apps,
      startRouter,
      copyVersion,
      cli,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
