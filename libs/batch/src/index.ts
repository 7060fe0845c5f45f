/**
 * `@slipway/batch`: batch inference. Scores a CSV or JSONL file with a deployment's pinned model
 * version in this process — feature vectors from the feature service (the online path, or point
 * in time), large model runs, constant memory — with checkpoints to resume a killed run
 * byte-identically, a reject file and error budget, a run manifest, and a sample of predictions
 * to the monitor. Batch workers run the registry's batch schedules: they claim due runs under
 * leases, score them with the same `runBatch`, and take over runs whose worker died.
 */
export { runBatch, runFiles, type BatchProgress, type BatchRunOptions } from './run.js';
export { MANIFEST_FORMAT, type RunManifest, type RunStatus } from './manifest.js';
export { CHECKPOINT_FORMAT, type Checkpoint, type Durations, type FileState } from './run-files.js';
export { inputFormatOf, type InputFormat } from './input.js';
export { PINNED_VARIANT } from './resolve.js';
export {
  acquireOutputLock,
  LOCK_FORMAT,
  OutputLockedError,
  type LockHolder,
  type OutputLock,
} from './output-lock.js';
export {
  defaultWorkerId,
  jobOptions,
  startBatchWorker,
  type BatchWorker,
  type BatchWorkerOptions,
  type BatchWorkerOutcome,
} from './worker.js';
