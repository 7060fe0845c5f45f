// A whole platform as real processes for end-to-end tests: registry, feature service, monitor,
// workers and routers on free loopback ports, the demo model trained from the feature service and
// deployed as `fraud`.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { registry } from '@slipway/contracts';
import { uploadModelVersion } from '@slipway/registry-client';
import { createClient } from '@slipway/service-kit';
import { createTempDir, ensureBuilt, repoRoot, startApp, type RunningApp } from '@slipway/testing';

const run = promisify(execFile);

export const TOKEN = 'platform-token';
const TOKENS = `${TOKEN}=e2e:admin`;

const entry = (app: string) => path.join(repoRoot, app, 'dist/main.js');

/** Builds what {@link startPlatform} runs (call from beforeAll). */
export async function buildPlatform(): Promise<void> {
  for (const project of [
    'apps/registry',
    'apps/features',
    'apps/worker',
    'apps/monitor',
    'apps/router',
    'tools/train',
    'apps/cli',
  ])
    await ensureBuilt(project);
}

export interface PlatformOptions {
  workers?: number;
  routers?: number;
  /** Start the monitor (default true). */
  monitor?: boolean;
  /** Extra environment for every process (e.g. OTEL_* for trace tests). */
  env?: Record<string, string>;
  /** Rows of demo data to train on (default 2000). */
  rows?: number;
  /** Extra environment for the workers (e.g. SLIPWAY_WORKER_TEST_FAULTS). */
  workerEnv?: Record<string, string>;
}

export interface Platform {
  readonly dir: string;
  readonly registry: RunningApp;
  readonly features: RunningApp;
  readonly monitor: RunningApp | undefined;
  readonly workers: RunningApp[];
  readonly routers: RunningApp[];
  /** Starts one more router replica. */
  startRouter(id?: string): Promise<RunningApp>;
  /** Registers another version of `fraud` from version 1's artifact and lineage; returns its number. */
  copyVersion(): Promise<number>;
  /** Runs `slipway <args>` against this platform; resolves with stdout. */
  cli(...args: string[]): Promise<string>;
  /** Stops every process, front to back. */
  stop(): Promise<void>;
}

/** Starts the platform and deploys the demo model as `fraud` (version 1, direct). */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const dir = (await createTempDir('slipway-platform-')).path;
  const common = { SLIPWAY_TOKEN: TOKEN, ...options.env };
  const registryApp = await startApp({
    name: 'registry',
    entry: entry('apps/registry'),
    addressEnv: 'SLIPWAY_REGISTRY_ADDR',
    env: {
      ...common,
      OTEL_SERVICE_NAME: 'slipway-registry',
      SLIPWAY_REGISTRY_ADDR: '127.0.0.1:0',
      SLIPWAY_REGISTRY_DATA_DIR: path.join(dir, 'registry'),
      SLIPWAY_REGISTRY_TOKENS: TOKENS,
    },
  });
  const featuresApp = await startApp({
    name: 'features',
    entry: entry('apps/features'),
    addressEnv: 'SLIPWAY_FEATURES_ADDR',
    env: {
      ...common,
      OTEL_SERVICE_NAME: 'slipway-features',
      SLIPWAY_FEATURES_ADDR: '127.0.0.1:0',
      SLIPWAY_FEATURES_DATA_DIR: path.join(dir, 'features'),
      SLIPWAY_FEATURES_TOKENS: TOKENS,
    },
  });
  const monitorApp =
    options.monitor === false
      ? undefined
      : await startApp({
          name: 'monitor',
          entry: entry('apps/monitor'),
          addressEnv: 'SLIPWAY_MONITOR_ADDR',
          env: {
            ...common,
            OTEL_SERVICE_NAME: 'slipway-monitor',
            SLIPWAY_MONITOR_ADDR: '127.0.0.1:0',
            SLIPWAY_MONITOR_DATA_DIR: path.join(dir, 'monitor'),
            SLIPWAY_MONITOR_TOKENS: TOKENS,
            SLIPWAY_REGISTRY_ADDR: registryApp.address,
            SLIPWAY_MONITOR_TOKEN: TOKEN,
            SLIPWAY_MONITOR_ANALYSIS_TICK_MS: '200',
          },
        });

  // The demo model, trained on the feature service's point-in-time rows and deployed.
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
    { env: { ...process.env, SLIPWAY_TOKEN: TOKEN } },
  );

  const workers: RunningApp[] = [];
  for (let i = 0; i < (options.workers ?? 1); i++) {
    workers.push(
      await startApp({
        name: `worker-${i + 1}`,
        entry: entry('apps/worker'),
        addressEnv: 'SLIPWAY_WORKER_ADDR',
        env: {
          ...common,
          OTEL_SERVICE_NAME: 'slipway-worker',
          SLIPWAY_WORKER_ADDR: '127.0.0.1:0',
          SLIPWAY_WORKER_ID: `worker-${i + 1}`,
          SLIPWAY_WORKER_DATA_DIR: path.join(dir, `worker-${i + 1}`),
          SLIPWAY_REGISTRY_ADDR: registryApp.address,
          SLIPWAY_WORKER_TOKEN: TOKEN,
          SLIPWAY_WORKER_HEARTBEAT_MS: '500',
          ...options.workerEnv,
        },
      }),
    );
  }

  const routers: RunningApp[] = [];
  const startRouter = async (id = `router-${routers.length + 1}`): Promise<RunningApp> => {
    const app = await startApp({
      name: id,
      entry: entry('apps/router'),
      addressEnv: 'SLIPWAY_ROUTER_ADDR',
      env: {
        ...common,
        OTEL_SERVICE_NAME: 'slipway-router',
        SLIPWAY_ROUTER_ADDR: '127.0.0.1:0',
        SLIPWAY_ROUTER_ID: id,
        SLIPWAY_ROUTER_DATA_DIR: path.join(dir, id),
        SLIPWAY_ROUTER_TOKEN: TOKEN,
        SLIPWAY_REGISTRY_ADDR: registryApp.address,
        SLIPWAY_FEATURES_ADDR: featuresApp.address,
        ...(monitorApp ? { SLIPWAY_MONITOR_ADDR: monitorApp.address } : {}),
        SLIPWAY_ROUTER_HEARTBEAT_MS: '500',
      },
    });
    routers.push(app);
    return app;
  };
  for (let i = 0; i < (options.routers ?? 1); i++) await startRouter();

  const copyVersion = async (): Promise<number> => {
    const models = createClient(registry.ModelServiceService, registryApp.address, { token: TOKEN });
    try {
      const { version: v1 } = await models.getModelVersion({ model: 'fraud', version: 1, alias: '' });
      const chunks: Uint8Array[] = [];
      for await (const part of models.downloadArtifact({ model: 'fraud', version: 1, sha256: '' })) {
        if (part.part?.$case === 'chunk') chunks.push(part.part.chunk);
      }
      const created = await uploadModelVersion(
        models,
        {
          model: 'fraud',
          sha256: v1!.artifactSha256,
          size: v1!.artifactSize,
          lineage: { ...v1!.lineage!, parentVersion: 1 },
          description: 'a copy of version 1',
          tags: {},
        },
        chunks,
      );
      return created.version;
    } finally {
      models.close();
    }
  };

  const cli = async (...args: string[]): Promise<string> => {
    const { stdout } = await run(process.execPath, [path.join(repoRoot, 'apps/cli/dist/bin.js'), ...args], {
      env: {
        ...process.env,
        SLIPWAY_TOKEN: TOKEN,
        SLIPWAY_REGISTRY_ADDR: registryApp.address,
        SLIPWAY_ROUTER_ADDR: routers[0]?.address ?? '',
      },
    });
    return stdout;
  };

  return {
    dir,
    registry: registryApp,
    features: featuresApp,
    monitor: monitorApp,
    workers,
    routers,
    startRouter,
    copyVersion,
    cli,
    async stop() {
      for (const app of [...routers, ...workers, monitorApp, featuresApp, registryApp]) {
        if (app?.running) await app.stop();
      }
    },
  };
}
