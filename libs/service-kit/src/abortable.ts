/**
 * Small primitives for racing async work against an AbortSignal. The work itself is not stopped;
 * the caller simply stops waiting for it, which is what lets a cancelled call end promptly.
 */

/** Resolves like `promise`, or rejects with `signal.reason` as soon as `signal` aborts. */
export function untilAborted<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Waits `ms`, or rejects with `signal.reason` when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Iterates `iterator` until it ends or `signal` aborts (then throws `signal.reason`). On an early
 * exit the iterator's `return()` is called without waiting, so a generator stuck in an `await`
 * cannot hold the caller.
 */
export async function* iterateUntilAborted<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal,
): AsyncGenerator<T> {
  let done = false;
  try {
    while (true) {
      const next = await untilAborted(iterator.next(), signal);
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!done) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}
