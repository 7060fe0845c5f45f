/**
 * `@slipway/service-kit`: the one way a Slipway service runs gRPC — async handlers, bearer-token
 * roles, typed domain errors mapped to status codes in one place, health, reflection, graceful
 * shutdown, and a matching promise client with deadlines and retries.
 */
export {
  SlipwayError,
  NotFoundError,
  InvalidArgumentError,
  AlreadyExistsError,
  FailedPreconditionError,
  UnavailableError,
  UnauthenticatedError,
  PermissionDeniedError,
  ResourceExhaustedError,
  DeadlineExceededError,
  CancelledError,
  type SlipwayErrorOptions,
} from './errors.js';
export { toGrpcStatus, fromGrpcError, statusNameOf, type GrpcStatus } from './status-mapping.js';
export {
  parseConfig,
  loadConfigOrExit,
  ConfigError,
  addressSchema,
  durationMsSchema,
  commaListSchema,
  tokenListSchema,
  type ConfigProblem,
  type Env,
} from './config.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export {
  ROLES,
  parseTokenList,
  roleSatisfies,
  type Role,
  type RequiredRole,
  type Principal,
  type AuthToken,
  type AuthOptions,
} from './auth.js';
export type {
  CallContext,
  MethodDefinitionLike,
  ServiceDefinitionLike,
  RequestOf,
  ResponseOf,
  HandlerFor,
  UnaryHandler,
  ServerStreamingHandler,
  ClientStreamingHandler,
  BidiStreamingHandler,
  ServiceImplementation,
  ServicePolicy,
} from './service-types.js';
export { DEFAULT_MAX_MESSAGE_BYTES } from './limits.js';
export {
  createServiceServer,
  type ServiceServer,
  type ServiceServerOptions,
  type BoundAddress,
} from './server.js';
export { installSignalHandlers, type ShutdownTarget, type SignalHandlerOptions } from './signals.js';
export {
  createClient,
  type ServiceClient,
  type ClientMethodFor,
  type ClientOptions,
  type ClientCallOptions,
  type ParentCall,
} from './client.js';
export { DEFAULT_RETRY, type RetryOptions } from './retry.js';
export { checkHealth, type HealthStatus, type CheckHealthOptions } from './health-client.js';
