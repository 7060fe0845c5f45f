/** Options of {@link runClosedLoop}. */
export interface ClosedLoopOptions {
  /** One request; `lane` is 0..concurrency-1 (drivers use it to pick a channel). */
  readonly call: (lane: number) => Promise<void>;
  /** Requests kept in flight: each lane starts its next request when the previous one ends. */
  readonly concurrency: number;
  /** Load before the window; its requests are not recorded. */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Most requests started in total (warm-up included): the loop ends even if time misbehaves. */
  readonly maxCalls: number;
  /** Receives the latency of each request that completes inside the window. */
  readonly record: (micros: number) => void;
  /** Called when the window opens and closes (timer based, for samplers outside the loop). */
  readonly onPhase?: (phase: 'measuring' | 'measured') => void;
  /** Milliseconds, monotonic. Default `performance.now`. */
  readonly now?: () => number;
}

/** What a closed loop measured. */
export interface ClosedLoopOutcome {
  /** Requests that completed successfully inside the window. */
  readonly completed: number;
  /** Failed requests, warm-up included. */
  readonly errors: number;
  /** The first few distinct error messages. */
  readonly errorSamples: readonly string[];
  /** Length of the window actually measured (shorter only if `maxCalls` ran out). */
  readonly windowMs: number;
  readonly started: number;
  readonly hitCallLimit: boolean;
}

const maxErrorSamples = 5;

/**
 * Runs a closed loop: `concurrency` lanes, each issuing one request after another, for
 * `warmupMs + durationMs`. A request counts, and its latency is recorded, when it completes inside
 * the window. Lanes stop starting requests at the window's end, then the loop waits for the
 * requests in flight (each bounded by the caller's own deadline).
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopOutcome> {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const windowStart = start + options.warmupMs;
  const windowEnd = windowStart + options.durationMs;
  let started = 0;
  let completed = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  let hitCallLimit = false;
  let lastEnd = windowStart;

  const timers = options.onPhase
    ? [
        setTimeout(() => options.onPhase?.('measuring'), options.warmupMs),
        setTimeout(() => options.onPhase?.('measured'), options.warmupMs + options.durationMs),
      ]
    : [];

  const lane = async (index: number): Promise<void> => {
    for (;;) {
      const t0 = now();
      if (t0 >= windowEnd) return;
      if (started >= options.maxCalls) {
        hitCallLimit = true;
        return;
      }
      started++;
      let failed = false;
      try {
        await options.call(index);
      } catch (error) {
        failed = true;
        errors++;
        const message = error instanceof Error ? error.message : String(error);
        if (errorSamples.length < maxErrorSamples && !errorSamples.includes(message))
          errorSamples.push(message);
      }
      const t1 = now();
      if (!failed && t1 >= windowStart && t1 < windowEnd) {
        completed++;
        lastEnd = t1;
        options.record((t1 - t0) * 1000);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, index) => lane(index)));
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
  const windowMs = hitCallLimit ? Math.max(lastEnd - windowStart, 0) : options.durationMs;
  return { completed, errors, errorSamples, windowMs, started, hitCallLimit };
}
