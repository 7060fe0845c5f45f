import { type testing } from '@slipway/contracts';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  type ServiceImplementation,
  type ServicePolicy,
} from '@slipway/service-kit';
import { setTimeout as sleep } from 'node:timers/promises';

type Definition = typeof testing.EchoServiceService;

const errors: Record<string, new (message: string) => Error> = {
  not_found: NotFoundError,
  invalid_argument: InvalidArgumentError,
  already_exists: AlreadyExistsError,
  failed_precondition: FailedPreconditionError,
  unavailable: UnavailableError,
  unauthenticated: UnauthenticatedError,
  permission_denied: PermissionDeniedError,
  resource_exhausted: ResourceExhaustedError,
};

/** Mutate needs deployer, Purge admin; everything else is open. */
export const echoPolicy: ServicePolicy<Definition> = { mutate: 'deployer', purge: 'admin' };

/** The EchoService as echo.proto documents it. */
export function createEchoService(): ServiceImplementation<Definition> {
  return {
    echo: async (req) => ({ payload: req.payload, text: req.text }),
    mutate: async (_req, ctx) => ({ actor: ctx.principal?.actor ?? '', role: ctx.principal?.role ?? '' }),
    purge: async (_req, ctx) => ({ actor: ctx.principal?.actor ?? '' }),
    fail: async (req) => {
      const ErrorClass = errors[req.kind];
      if (ErrorClass) throw new ErrorClass(req.message);
      throw new Error(`unexpected failure: ${req.message}`);
    },
    slow: async (req, ctx) => {
      const remaining = ctx.deadline ? ctx.deadline.getTime() - Date.now() : -1;
      await sleep(req.delayMs, undefined, { signal: ctx.signal });
      return { deadlineRemainingMs: Math.round(remaining) };
    },
    count: async function* (req, ctx) {
      for (let index = 0; index < req.count && !ctx.signal.aborted; index++) {
        if (index > 0 && req.intervalMs > 0) await sleep(req.intervalMs, undefined, { signal: ctx.signal });
        yield { index };
      }
    },
    sum: async (requests) => {
      let total = 0;
      let messages = 0;
      for await (const req of requests) {
        total += req.value;
        messages++;
      }
      return { total, messages };
    },
  };
}
