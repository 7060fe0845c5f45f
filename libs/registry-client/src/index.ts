/**
 * Clients of the registry shared by the router, workers, the monitor and batch runs: a resumable
 * watch, uploads, and a verified, content-addressed cache of downloaded artifacts.
 */
export { applyEvent, createRegistryState, type RegistryState } from './registry-state.js';
export { createRegistryWatcher, type RegistryWatcher, type RegistryWatcherOptions } from './watcher.js';
export { UPLOAD_CHUNK_BYTES, uploadModelVersion } from './register-version.js';
export {
  createArtifactCache,
  type ArtifactCache,
  type ArtifactCacheOptions,
  type ArtifactRef,
  type DownloadArtifact,
} from './artifact-cache.js';
