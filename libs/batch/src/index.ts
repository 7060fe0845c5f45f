/**
 * `@slipway/batch`: batch inference. Scores a CSV or JSONL file with a deployment's pinned model
 * version in this process — feature vectors from the feature service (the online path, or point
 * in time), large model runs, constant memory — with checkpoints to resume a killed run
 * byte-identically, a reject file and error budget, a run manifest, and a sample of predictions
 * to the monitor.
 */
export { runBatch, runFiles, type BatchProgress, type BatchRunOptions } from './run.js';
export { MANIFEST_FORMAT, type RunManifest, type RunStatus } from './manifest.js';
export { CHECKPOINT_FORMAT, type Checkpoint, type Durations, type FileState } from './run-files.js';
export { inputFormatOf, type InputFormat } from './input.js';
export { PINNED_VARIANT } from './resolve.js';
