import { registry } from '@slipway/contracts';
import { createClient, type Logger } from '@slipway/service-kit';
import { applyEvent, createRegistryState, type RegistryState } from './registry-state.js';

/** Options of {@link createRegistryWatcher}. */
export interface RegistryWatcherOptions {
  /** Registry address, host:port. */
  address: string;
  token?: string;
  logger?: Logger;
  /** Called after each applied event, with the event and the state after it. */
  onEvent?: (event: registry.WatchResponse, state: RegistryState) => void;
  /** First reconnect delay; doubles up to `maxBackoffMs`, with full jitter. Default 100. */
  baseBackoffMs?: number;
  /** Default 2000. */
  maxBackoffMs?: number;
}

/** A live, self-healing view of the registry's deployments and worker endpoints. */
export interface RegistryWatcher {
  /** The current state; only ever mutated by applied watch events. */
  readonly state: RegistryState;
  /** Whether the watch stream is connected right now. */
  readonly connected: boolean;
  /** Resolves once the state is synced with the registry (first snapshot or replay done). */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops watching. Idempotent. */
  close(): void;
}

/**
 * Watches the registry and keeps {@link RegistryWatcher.state} current. When the stream breaks
 * (registry restart, network), it reconnects with backoff and resumes from the last applied
 * revision, so no revision is missed or applied twice; a `reset` from the registry rebuilds the
 * state from a fresh snapshot. While disconnected the last known state stays in place, so
 * callers keep serving on it.
 */
export function createRegistryWatcher(options: RegistryWatcherOptions): RegistryWatcher {
  const state = createRegistryState();
  const client = createClient(registry.WatchServiceService, options.address, {
    token: options.token,
    // A watch is open-ended: no deadline.
    defaultDeadlineMs: Infinity,
  });
  const controller = new AbortController();
  const base = options.baseBackoffMs ?? 100;
  const max = options.maxBackoffMs ?? 2000;
  let connected = false;
  let readyWaiters: Array<() => void> = [];

  const run = async (): Promise<void> => {
    let attempt = 0;
    while (!controller.signal.aborted) {
      try {
        const stream = client.watch(
          { fromRevision: state.revision },
          { signal: controller.signal, deadline: Infinity },
        );
        for await (const event of stream) {
          if (!connected) {
            connected = true;
            attempt = 0;
            options.logger?.info({ revision: String(state.revision) }, 'registry watch connected');
          }
          applyEvent(state, event);
          if (state.synced && readyWaiters.length > 0) {
            for (const resolve of readyWaiters) resolve();
            readyWaiters = [];
          }
          options.onEvent?.(event, state);
        }
      } catch (err) {
        if (controller.signal.aborted) break;
        options.logger?.warn(
          { err: (err as Error).message, revision: String(state.revision) },
          'registry watch interrupted; resuming',
        );
      }
      connected = false;
      if (controller.signal.aborted) break;
      const delay = Math.random() * Math.min(max, base * 2 ** attempt++);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };
  void run();

  return {
    state,
    get connected() {
      return connected;
    },
    ready(timeoutMs = 10_000) {
      if (state.synced) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`registry at ${options.address} did not answer the watch within ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
        readyWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    close() {
      if (controller.signal.aborted) return;
      controller.abort();
      client.close();
    },
  };
}
