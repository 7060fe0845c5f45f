import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
} from '@slipway/service-kit';

/**
 * Exit codes of `slipway`: 0 success, 1 other failures, 2 bad usage or invalid argument,
 * 3 not found, 4 not allowed (unauthenticated or permission denied), 5 conflict (already exists
 * or failed precondition), 6 service unavailable.
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof InvalidArgumentError) return 2;
  if (err instanceof NotFoundError) return 3;
  if (err instanceof UnauthenticatedError || err instanceof PermissionDeniedError) return 4;
  if (err instanceof AlreadyExistsError || err instanceof FailedPreconditionError) return 5;
  if (err instanceof UnavailableError) return 6;
  return 1;
}

/** A usage problem found by the CLI itself (exit code 2). */
export class UsageError extends InvalidArgumentError {}

/** The router (not the registry) is unavailable; its message already says where (exit code 6). */
export class RouterUnavailableError extends UnavailableError {}
