/**
 * @slipway/worker: the inference worker. `main.ts` runs it; these exports let tools and tests
 * build one in-process.
 */
export {
  DEFAULT_EXECUTOR,
  LEASE_TTL_SECONDS,
  defaultWorkerId,
  envWithArgs,
  loadWorkerConfigOrExit,
  workerConfigSchema,
  type WorkerConfig,
} from './config.js';
export { createWorker, type Worker } from './worker.js';
export {
  createModelTable,
  type ModelTable,
  type VersionInfo,
  type VersionState,
  type VersionStatus,
} from './model-table.js';
export {
  createInferenceService,
  SERVER_EXTENSIONS,
  SERVER_NAME,
  type InferenceServiceOptions,
} from './inference-service.js';
export { scanModelRepository, type LocalScan, type LocalVersion } from './local-repository.js';
export {
  modelOverridesSchema,
  resolveLoadSettings,
  type LoadSettings,
  type ModelOverrides,
} from './load-settings.js';
export { AUTO_WORKER_THREADS_FROM_MICROS, loadVersion } from './executor-choice.js';
