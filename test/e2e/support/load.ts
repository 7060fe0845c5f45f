// Continuous closed-loop load for end-to-end tests: N callers, each sending its next request as
// soon as the previous one is answered, every outcome kept with its start and end time.

/** One request's outcome. */
export interface Outcome<T> {
  /** performance.now() when the request was sent and answered. */
  readonly start: number;
  readonly end: number;
  readonly value?: T;
  /** gRPC status code of a failure. */
  readonly code?: number;
  readonly error?: string;
}

export interface Load<T> {
  /** Outcomes so far. */
  readonly outcomes: Outcome<T>[];
  /** Stops sending and resolves once every caller's last request is answered. */
  stop(): Promise<Outcome<T>[]>;
}

/** Starts `concurrency` callers of `call(i)` (i counts requests across callers). */
export function startLoad<T>(concurrency: number, call: (i: number) => Promise<T>): Load<T> {
  const outcomes: Outcome<T>[] = [];
  let stopped = false;
  let next = 0;
  const caller = async (): Promise<void> => {
    while (!stopped) {
      const start = performance.now();
      try {
        const value = await call(next++);
        outcomes.push({ start, end: performance.now(), value });
      } catch (err) {
        const e = err as { code?: number; message?: string };
        outcomes.push({ start, end: performance.now(), code: e.code, error: e.message });
      }
    }
  };
  const callers = Array.from({ length: concurrency }, caller);
  return {
    outcomes,
    async stop() {
      stopped = true;
      await Promise.all(callers);
      return outcomes;
    },
  };
}

/** Failures among outcomes, summarised for an assertion message. */
export function failures<T>(outcomes: readonly Outcome<T>[]): string[] {
  return outcomes.filter((o) => o.error !== undefined).map((o) => `${o.code}: ${o.error}`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it returns true; throws after `timeoutMs` with `what`. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
