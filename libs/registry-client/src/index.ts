/** Clients of the registry shared by the router, workers and the monitor: a resumable watch. */
export { applyEvent, createRegistryState, type RegistryState } from './registry-state.js';
export { createRegistryWatcher, type RegistryWatcher, type RegistryWatcherOptions } from './watcher.js';
export { UPLOAD_CHUNK_BYTES, uploadModelVersion } from './register-version.js';
