import type { Logger } from '@slipway/service-kit';
import type { PredictionStore } from './store/prediction-store.js';

const DAY_MS = 86_400_000;

/** Options of {@link startRetention}. */
export interface RetentionOptions {
  readonly store: PredictionStore;
  /** Records whose prediction time is older than this are deleted. */
  readonly retentionDays: number;
  readonly logger: Logger;
  /** Time between sweeps. Default one hour. */
  readonly intervalMs?: number;
  /** The clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** A running retention job. */
export interface Retention {
  /** Deletes what is past retention now; resolves with the number of records deleted. */
  sweep(): Promise<number>;
  /** Stops the timer and waits for a sweep in progress. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Deletes records past retention at once (the returned promise of the first sweep is not awaited
 * here: ingestion may start while it runs) and then every `intervalMs`. Sweeps never overlap.
 */
export function startRetention(options: RetentionOptions): Retention {
  const { store, logger, intervalMs = 3_600_000, now = Date.now } = options;
  const retentionMs = options.retentionDays * DAY_MS;
  let running: Promise<number> | undefined;
  let stopped = false;

  const sweep = (): Promise<number> => {
    running ??= (async () => {
      const cutoffMs = now() - retentionMs;
      try {
        const deleted = await store.deleteBefore(cutoffMs);
        if (deleted > 0) {
          logger.info(
            { deleted, before: new Date(cutoffMs).toISOString(), retentionDays: options.retentionDays },
            'prediction records past retention deleted',
          );
        }
        return deleted;
      } catch (err) {
        logger.error({ err }, 'retention sweep failed; retrying at the next interval');
        return 0;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const timer = setInterval(() => void sweep(), intervalMs);
  timer.unref();
  void sweep();
  return {
    sweep: () => (stopped ? Promise.resolve(0) : sweep()),
    async shutdown() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
