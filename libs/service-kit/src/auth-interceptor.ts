import {
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  type Metadata,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import {
  createTokenVerifier,
  roleSatisfies,
  type AuthOptions,
  type Principal,
  type RequiredRole,
} from './auth.js';
import { PermissionDeniedError, UnauthenticatedError } from './errors.js';
import type { Logger } from './logger.js';
import { toGrpcStatus } from './status-mapping.js';

// The interceptor hands the principal to the handler through the request's Metadata object,
// which grpc-js passes on unchanged; a WeakMap cannot be forged by a client header.
const principals = new WeakMap<Metadata, Principal>();

/** The principal the auth interceptor resolved for the call whose request metadata this is. */
export function principalOf(metadata: Metadata): Principal | undefined {
  return principals.get(metadata);
}

/** Inputs of {@link createAuthInterceptor}. */
export interface AuthInterceptorOptions {
  /** Accepted tokens; without it every protected method answers UNAUTHENTICATED. */
  auth: AuthOptions | undefined;
  /** The role a method (by full path) requires; unknown paths (health, reflection) are open. */
  requiredRole: (path: string) => RequiredRole;
  logger: Logger;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * A grpc-js server interceptor that reads `authorization: Bearer <token>`, resolves it to a
 * principal and enforces the method's required role before the handler runs. An unknown token
 * on an open method is treated as anonymous rather than refused, so health checks and
 * reflection never depend on credentials.
 */
export function createAuthInterceptor(options: AuthInterceptorOptions): ServerInterceptor {
  const verifier = createTokenVerifier(options.auth?.tokens ?? []);
  return (method, call) => {
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const header = metadata.get('authorization')[0];
        // The token is a secret: keep it away from handlers (and from whatever they log).
        metadata.remove('authorization');
        const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
        const principal = token === undefined ? undefined : verifier.verify(token);
        const required = options.requiredRole(method.path);
        const refusal = refuse(method.path, required, token, principal);
        if (refusal) {
          call.sendStatus(toGrpcStatus(refusal, options.logger));
          return;
        }
        if (principal) principals.set(metadata, principal);
        next(metadata);
      })
      .build();
    const responder = new ResponderBuilder().withStart((next) => next(listener)).build();
    return new ServerInterceptingCall(call, responder);
  };
}

function refuse(
  path: string,
  required: RequiredRole,
  token: string | undefined,
  principal: Principal | undefined,
): Error | undefined {
  if (required === 'none') return undefined;
  if (token === undefined) {
    return new UnauthenticatedError(
      `${path} requires the ${required} role: send "authorization: Bearer <token>"`,
    );
  }
  if (principal === undefined) return new UnauthenticatedError(`${path}: the bearer token is not recognised`);
  if (!roleSatisfies(principal.role, required)) {
    return new PermissionDeniedError(
      `${path} requires the ${required} role; "${principal.actor}" has ${principal.role}`,
    );
  }
  return undefined;
}
