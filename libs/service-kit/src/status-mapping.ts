import { randomBytes } from 'node:crypto';
import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import {
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  SlipwayError,
  UnauthenticatedError,
  UnavailableError,
} from './errors.js';
import type { Logger } from './logger.js';

/** What a handler's failure is sent back as. */
export interface GrpcStatus {
  code: status;
  details: string;
  metadata?: Metadata;
}

type ErrorClass = new (message: string, options?: { cause?: unknown; code?: number }) => SlipwayError;

// The one table between domain errors and gRPC status codes, read in both directions.
const ERROR_CODES: ReadonlyArray<readonly [ErrorClass, status]> = [
  [NotFoundError, status.NOT_FOUND],
  [InvalidArgumentError, status.INVALID_ARGUMENT],
  [AlreadyExistsError, status.ALREADY_EXISTS],
  [FailedPreconditionError, status.FAILED_PRECONDITION],
  [UnavailableError, status.UNAVAILABLE],
  [UnauthenticatedError, status.UNAUTHENTICATED],
  [PermissionDeniedError, status.PERMISSION_DENIED],
  [ResourceExhaustedError, status.RESOURCE_EXHAUSTED],
  [DeadlineExceededError, status.DEADLINE_EXCEEDED],
  [CancelledError, status.CANCELLED],
];

/**
 * The status code name (`NOT_FOUND`, `INTERNAL`, ...) a handler failure is answered with, from the
 * same table as {@link toGrpcStatus}: for metric labels and logs that must match what callers saw.
 */
export function statusNameOf(err: unknown): string {
  for (const [ErrorType, code] of ERROR_CODES) {
    if (err instanceof ErrorType) return status[code];
  }
  return 'INTERNAL';
}

/**
 * Maps anything a handler threw to the status its caller receives. Typed domain errors keep their
 * code and message. Anything else becomes INTERNAL with a generic message carrying a trace id;
 * the real error is logged with that id and never reaches the caller.
 */
export function toGrpcStatus(err: unknown, logger: Logger): GrpcStatus {
  for (const [ErrorType, code] of ERROR_CODES) {
    if (err instanceof ErrorType) return { code, details: err.message };
  }
  const traceId = currentTraceId();
  logger.error({ err, trace_id: traceId }, 'unexpected error in handler');
  return { code: status.INTERNAL, details: `internal error; see server logs, trace ${traceId}` };
}

/**
 * Turns a failed grpc-js call into the matching domain error, carrying the status `code` and the
 * server's message. Codes without a dedicated class (INTERNAL, UNKNOWN, UNIMPLEMENTED, ...)
 * become a plain {@link SlipwayError}.
 */
export function fromGrpcError(
  err: ServiceError | { code: number; details?: string; message?: string },
): SlipwayError {
  const message = err.details ?? err.message ?? `gRPC status ${err.code}`;
  const match = ERROR_CODES.find(([, code]) => code === err.code);
  const ErrorType: ErrorClass = match ? match[0] : SlipwayError;
  return new ErrorType(message, { code: err.code, cause: err });
}

/** True for an error shaped like a grpc-js call failure (a numeric `code`). */
export function isGrpcServiceError(err: unknown): err is ServiceError {
  return (
    err instanceof Error &&
    typeof (err as Partial<ServiceError>).code === 'number' &&
    !(err instanceof SlipwayError)
  );
}

// The active span's trace id lets an SRE jump from the caller's message to the trace; without
// a span, a fresh random id still ties the message to the log line.
function currentTraceId(): string {
  const context = trace.getActiveSpan()?.spanContext();
  if (context && isSpanContextValid(context)) return context.traceId;
  return randomBytes(16).toString('hex');
}
