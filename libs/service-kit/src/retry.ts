import { status } from '@grpc/grpc-js';

/** When and how a client retries a failed unary call. */
export interface RetryOptions {
  /** Status codes worth retrying. Default UNAVAILABLE and RESOURCE_EXHAUSTED. */
  codes: readonly status[];
  /** Attempts in all, the first one included. Default 3; 1 disables retries. */
  maxAttempts: number;
  /** Backoff cap of the first retry. Default 100 ms. */
  baseDelayMs: number;
  /** Largest backoff cap. Default 2000 ms. */
  maxDelayMs: number;
}

/** Defaults of {@link RetryOptions}. */
export const DEFAULT_RETRY: Readonly<RetryOptions> = {
  codes: [status.UNAVAILABLE, status.RESOURCE_EXHAUSTED],
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
};

/**
 * "Full jitter" exponential backoff: a uniform delay in [0, min(maxDelayMs, baseDelayMs·2^(n-1)))
 * before retry n. Random spread keeps a fleet of clients from retrying in lockstep.
 */
export function backoffDelayMs(
  retryNumber: number,
  options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>,
): number {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retryNumber - 1));
  return Math.floor(Math.random() * cap);
}
