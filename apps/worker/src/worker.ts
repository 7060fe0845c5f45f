import { availableParallelism } from 'node:os';
import { inference } from '@slipway/contracts';
import type { LoadedModel } from '@slipway/model-runtime';
import {
  createServiceServer,
  type BoundAddress,
  type Logger,
  type ServiceServer,
} from '@slipway/service-kit';
import { LEASE_TTL_SECONDS, type WorkerConfig } from './config.js';
import { loadVersion, type VersionSource } from './executor-choice.js';
import { parseFaults } from './faults.js';
import { createInferenceService } from './inference-service.js';
import { defaultLoadSettings, type LoadSettings } from './load-settings.js';
import { logScan, scanModelRepository } from './local-repository.js';
import { createModelTable, type ModelTable } from './model-table.js';
import { startRegistrySync, type RegistrySync } from './registry-sync.js';

/** An inference worker: the Open Inference Protocol server over a table of loaded model versions. */
export interface Worker {
  readonly server: ServiceServer;
  readonly table: ModelTable;
  /**
   * Binds the server, then loads models: every version of the local repository
   * (SLIPWAY_WORKER_MODELS), or what the registry assigns. Loading continues after this resolves;
   * ServerReady turns true once it has finished.
   *
   * @throws Error when the local repository cannot be read or the address cannot be bound.
   */
  start(): Promise<BoundAddress>;
  /** True once every version to hold has finished loading, successfully or not. */
  ready(): boolean;
  /**
   * Deregisters from the registry (so routers stop sending here first), then shuts the server
   * down: drain, wait for in-flight calls, unload every model. Idempotent; never rejects.
   */
  shutdown(reason?: string): Promise<void>;
}

/** Builds a worker from its configuration. Nothing is bound or loaded until `start()`. */
export function createWorker(config: WorkerConfig, logger: Logger): Worker {
  const table = createModelTable();
  if (config.SLIPWAY_WORKER_TEST_FAULTS) {
    logger.warn({ faults: config.SLIPWAY_WORKER_TEST_FAULTS }, 'TEST-ONLY fault injection is on');
  }
  const settings = defaultLoadSettings(config);
  let sync: RegistrySync | undefined;
  let localDone = false;
  const ready = (): boolean =>
    config.SLIPWAY_WORKER_MODELS ? localDone && table.settled() : (sync?.ready() ?? false);

  const server = createServiceServer({
    name: 'worker',
    address: config.SLIPWAY_WORKER_ADDR,
    logger,
    maxMessageBytes: config.SLIPWAY_WORKER_MAX_MESSAGE_BYTES,
    drainDelayMs: config.SLIPWAY_WORKER_DRAIN_DELAY_MS,
  });
  server.add(
    inference.GRPCInferenceServiceService,
    createInferenceService({
      table,
      serverReady: ready,
      workerId: config.SLIPWAY_WORKER_ID,
      faults: parseFaults(config.SLIPWAY_WORKER_TEST_FAULTS),
    }),
  );
  // Runs once the server has stopped, so no call is using a model any more.
  server.onShutdown(() => table.close(), 'models');

  const load = async (source: VersionSource, versionSettings: LoadSettings): Promise<LoadedModel> => {
    const model = await loadVersion(source, versionSettings, logger);
    for (const skipped of model.signature.skippedOutputs) {
      logger.warn({ model: source.name, version: source.version, output: skipped.name }, skipped.reason);
    }
    return model;
  };

  // Scans first (a missing repository fails start), then returns the loading to run after binding.
  const prepareLocal = async (dir: string): Promise<() => Promise<void>> => {
    const scan = await scanModelRepository(dir, config);
    logScan(scan, dir, logger);
    return async () => {
      const queue = [...scan.versions];
      const next = async (): Promise<void> => {
        for (let v = queue.shift(); v; v = queue.shift()) {
          const { name, version, file, settings: versionSettings } = v;
          if ('error' in versionSettings) {
            logger.warn({ model: name, version, error: versionSettings.error }, 'model not loaded');
            table.fail(name, version, versionSettings.error);
            continue;
          }
          const status = await table.load(name, version, () =>
            load({ name, version, path: file }, versionSettings),
          );
          if (status.state === 'FAILED')
            logger.warn({ model: name, version, error: status.error }, 'model failed to load');
          else
            logger.info(
              { model: name, version, executor: table.resolve(name, String(version)).executor },
              'model ready',
            );
        }
      };
      // Loads overlap up to the core count: loading is mostly onnxruntime work off the event loop.
      await Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, next));
      localDone = true;
      logger.info(
        { versions: table.list().length, ready: table.list().filter((s) => s.state === 'READY').length },
        'model repository loaded',
      );
    };
  };

  let shuttingDown: Promise<void> | undefined;
  return {
    server,
    table,
    ready,
    async start() {
      const localDir = config.SLIPWAY_WORKER_MODELS;
      const loadRepository = localDir === undefined ? undefined : await prepareLocal(localDir);
      const bound = await server.start();
      if (loadRepository) {
        void loadRepository().catch((err: unknown) =>
          logger.error({ err }, 'loading the model repository failed'),
        );
        return bound;
      }
      sync = startRegistrySync({
        table,
        registryAddress: config.SLIPWAY_REGISTRY_ADDR,
        token: config.SLIPWAY_WORKER_TOKEN,
        workerId: config.SLIPWAY_WORKER_ID,
        advertiseAddress: config.SLIPWAY_WORKER_ADVERTISE_ADDR ?? bound.address,
        dataDir: config.SLIPWAY_WORKER_DATA_DIR,
        deployments: config.SLIPWAY_WORKER_DEPLOYMENTS,
        heartbeatMs: config.SLIPWAY_WORKER_HEARTBEAT_MS,
        leaseTtlSeconds: Math.max(
          LEASE_TTL_SECONDS,
          Math.ceil((3 * config.SLIPWAY_WORKER_HEARTBEAT_MS) / 1000),
        ),
        loadModel: ({ name, version, path, sha256 }) =>
          load({ name, version, path, expectedSha256: sha256 }, settings),
        logger,
      });
      logger.info(
        {
          registry: config.SLIPWAY_REGISTRY_ADDR,
          workerId: config.SLIPWAY_WORKER_ID,
          deployments: config.SLIPWAY_WORKER_DEPLOYMENTS ?? 'all',
        },
        'following the registry',
      );
      return bound;
    },
    shutdown(reason = 'requested') {
      shuttingDown ??= (async () => {
        await sync?.close();
        await server.shutdown(reason);
      })();
      return shuttingDown;
    },
  };
}
