/**
 * Domain errors. Domain code throws these; it knows nothing of gRPC. The service kit maps each
 * class to a status code in one place (`status-mapping.ts`), and clients turn a failed call back
 * into the same classes, so `err instanceof NotFoundError` works on both sides of a hop.
 *
 * Messages are shown to the caller unchanged: name the thing and the fix,
 * e.g. `model "fraud" has no version 9 (latest is 7)`.
 */

/** Options shared by every Slipway error. */
export interface SlipwayErrorOptions {
  /** The underlying error, kept for logs; never sent to a caller. */
  cause?: unknown;
  /**
   * The gRPC status code the error arrived with, when it was rebuilt from a failed remote call.
   * Set by `fromGrpcError`; undefined for errors raised locally.
   */
  code?: number;
}

/**
 * Base of every Slipway error. Thrown as such (not a subclass) it means "something went wrong
 * that the caller cannot fix" and is reported as INTERNAL without its message.
 */
export class SlipwayError extends Error {
  /** The gRPC status code this error arrived with; see {@link SlipwayErrorOptions.code}. */
  readonly code: number | undefined;

  constructor(message: string, options: SlipwayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
  }
}

/** The named thing does not exist. */
export class NotFoundError extends SlipwayError {}

/** The request itself is wrong, whatever the state of the system. */
export class InvalidArgumentError extends SlipwayError {}

/** The thing the caller tried to create exists already. */
export class AlreadyExistsError extends SlipwayError {}

/** The system is not in a state that allows the operation (e.g. promote without a candidate). */
export class FailedPreconditionError extends SlipwayError {}

/** A dependency is down or overloaded for now; the caller may retry with backoff. */
export class UnavailableError extends SlipwayError {}

/** The caller did not say who it is, or the credential is unknown. */
export class UnauthenticatedError extends SlipwayError {}

/** The caller is known but not allowed to do this. */
export class PermissionDeniedError extends SlipwayError {}

/** A quota or a bounded queue is full; the caller may retry later. */
export class ResourceExhaustedError extends SlipwayError {}

/** The operation ran out of time before it finished. */
export class DeadlineExceededError extends SlipwayError {}

/** The operation was cancelled, usually by its caller. */
export class CancelledError extends SlipwayError {}
