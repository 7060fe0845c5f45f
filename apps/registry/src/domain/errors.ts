/**
 * Domain errors of the registry. They know nothing of gRPC: the service kit maps each class to a
 * status code in one place. These mirror the service kit's classes of the same names (same
 * constructor, same `name`), so swapping this module for `@slipway/service-kit` changes imports
 * only.
 *
 * Messages are shown to the caller unchanged: name the thing and the fix.
 */

/** Options shared by every registry error. */
export interface RegistryErrorOptions {
  /** The underlying error, kept for logs. */
  cause?: unknown;
  /** The gRPC status code the error arrived with (set only when rebuilt from a remote call). */
  code?: number;
}

/** Base class; thrown as such it means "internal", reported without its message. */
export class RegistryError extends Error {
  /** See {@link RegistryErrorOptions.code}. */
  readonly code: number | undefined;

  constructor(message: string, options: RegistryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
  }
}

/** The named thing does not exist. */
export class NotFoundError extends RegistryError {}

/** The request itself is wrong, whatever the state of the registry. */
export class InvalidArgumentError extends RegistryError {}

/** The thing the caller tried to create exists already. */
export class AlreadyExistsError extends RegistryError {}

/** The registry is not in a state that allows the operation (e.g. a stale expected revision). */
export class FailedPreconditionError extends RegistryError {}
