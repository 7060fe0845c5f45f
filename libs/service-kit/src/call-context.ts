import type { Metadata } from '@grpc/grpc-js';
import { principalOf } from './auth-interceptor.js';
import { CancelledError, DeadlineExceededError } from './errors.js';
import type { Logger } from './logger.js';
import type { CallContext } from './service-types.js';

/** What every kind of grpc-js server call offers (grpc-js does not export the type itself). */
export interface SurfaceCall {
  readonly metadata: Metadata;
  readonly cancelled: boolean;
  getPeer(): string;
  getDeadline(): Date | number;
  on(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

/** A call's context plus the cleanup to run once the handler has finished. */
export interface CallScope {
  readonly ctx: CallContext;
  /** Stops watching the call (deadline timer, cancel listener). */
  close(): void;
}

/**
 * Builds the {@link CallContext} of a grpc-js server call. The signal aborts with a
 * `CancelledError` when the caller cancels, or a `DeadlineExceededError` when the deadline passes.
 */
export function openCallScope(call: SurfaceCall, method: string, logger: Logger): CallScope {
  const controller = new AbortController();
  const deadline = toDate(call.getDeadline());
  const onCancelled = (): void =>
    controller.abort(new CancelledError(`${method}: the caller cancelled the call`));
  call.on('cancelled', onCancelled);
  // grpc-js answers DEADLINE_EXCEEDED on its own; this timer is what tells the handler to stop.
  const timer =
    deadline === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new DeadlineExceededError(`${method}: the caller's deadline passed`)),
          Math.max(0, deadline.getTime() - Date.now()),
        );
  if (call.cancelled) onCancelled();
  const ctx: CallContext = {
    method,
    metadata: call.metadata,
    deadline,
    signal: controller.signal,
    principal: principalOf(call.metadata),
    logger,
    peer: call.getPeer(),
  };
  return {
    ctx,
    close() {
      clearTimeout(timer);
      call.removeListener('cancelled', onCancelled);
    },
  };
}

function toDate(deadline: Date | number): Date | undefined {
  if (deadline instanceof Date) return deadline;
  return Number.isFinite(deadline) ? new Date(deadline) : undefined;
}
