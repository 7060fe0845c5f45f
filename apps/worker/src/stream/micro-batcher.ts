/** Options of {@link createMicroBatcher}. */
export interface MicroBatcherOptions<T> {
  /** Items per batch at most. */
  readonly maxBatch: number;
  /** How long the first item of a batch waits for more. */
  readonly maxWaitMs: number;
  /** Batches processed at once; further batches wait (and grow up to maxBatch). */
  readonly maxInFlight: number;
  /** Processes one batch. Must not reject (a rejection is reported to `onError`). */
  readonly process: (items: T[]) => Promise<void>;
  /**
   * True when nothing else is waiting behind this item (e.g. the consumer has no pending
   * messages): the batch goes at once instead of waiting maxWaitMs.
   */
  readonly isLast?: (item: T) => boolean;
  readonly onError?: (err: unknown) => void;
}

/** Groups items into batches by size and time, with a bound on batches in flight. */
export interface MicroBatcher<T> {
  push(item: T): void;
  /** Items queued and not yet handed to `process`. */
  readonly queued: number;
  /** Batches being processed. */
  readonly inFlight: number;
  /** Removes and returns the queued items (shutdown: they are given back to the broker). */
  takeQueued(): T[];
  /** Resolves once no batch is being processed. */
  idle(): Promise<void>;
}

export function createMicroBatcher<T>(options: MicroBatcherOptions<T>): MicroBatcher<T> {
  let queue: T[] = [];
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
  /** The oldest queued item has waited long enough (or was the last): send when a slot frees. */
  let due = false;
  let idleWaiters: Array<() => void> = [];

  const clearTimer = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };

  const dispatch = (): void => {
    while (queue.length > 0 && inFlight < options.maxInFlight && (due || queue.length >= options.maxBatch)) {
      const batch = queue.length <= options.maxBatch ? queue : queue.slice(0, options.maxBatch);
      queue = queue.length <= options.maxBatch ? [] : queue.slice(options.maxBatch);
      if (queue.length === 0) {
        due = false;
        clearTimer();
      }
      inFlight++;
      options
        .process(batch)
        .catch((err: unknown) => options.onError?.(err))
        .finally(() => {
          inFlight--;
          dispatch();
          if (inFlight === 0) {
            const waiters = idleWaiters;
            idleWaiters = [];
            for (const w of waiters) w();
          }
        });
    }
    if (queue.length > 0 && !due && !timer) {
      timer = setTimeout(() => {
        timer = undefined;
        due = true;
        dispatch();
      }, options.maxWaitMs);
    }
  };

  return {
    push(item) {
      queue.push(item);
      if (options.isLast?.(item)) due = true;
      dispatch();
    },
    get queued() {
      return queue.length;
    },
    get inFlight() {
      return inFlight;
    },
    takeQueued() {
      const taken = queue;
      queue = [];
      due = false;
      clearTimer();
      return taken;
    },
    idle() {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
