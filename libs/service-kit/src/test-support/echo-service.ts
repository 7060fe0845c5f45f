import { EventEmitter } from 'node:events';
import { testing } from '@slipway/contracts';
import { sleep } from '../abortable.js';
import type { AuthToken } from '../auth.js';
import {
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  type SlipwayError,
} from '../errors.js';
import { createServiceServer, type ServiceServer, type ServiceServerOptions } from '../server.js';
import type { ServiceImplementation, ServicePolicy } from '../service-types.js';
import { captureLogger, type CapturedLogger } from './capture-logger.js';

type EchoDefinition = typeof testing.EchoServiceService;
/** The test EchoService's async implementation type. */
export type EchoImplementation = ServiceImplementation<EchoDefinition>;

/** Tokens accepted by test servers: one per role. */
export const TEST_TOKENS: readonly AuthToken[] = [
  { token: 'reader-token', actor: 'rita', role: 'reader' },
  { token: 'deployer-token', actor: 'dana', role: 'deployer' },
  { token: 'admin-token', actor: 'ada', role: 'admin' },
];

/** The policy echo.proto describes: Mutate needs deployer, Purge admin, the rest open. */
export const ECHO_POLICY: ServicePolicy<EchoDefinition> = { mutate: 'deployer', purge: 'admin' };

/** Every `FailRequest.kind` the fixture understands, with the error class it throws. */
export const FAIL_KINDS: ReadonlyArray<readonly [string, new (message: string) => SlipwayError]> = [
  ['not_found', NotFoundError],
  ['invalid_argument', InvalidArgumentError],
  ['already_exists', AlreadyExistsError],
  ['failed_precondition', FailedPreconditionError],
  ['unavailable', UnavailableError],
  ['unauthenticated', UnauthenticatedError],
  ['permission_denied', PermissionDeniedError],
  ['resource_exhausted', ResourceExhaustedError],
  ['deadline_exceeded', DeadlineExceededError],
  ['cancelled', CancelledError],
];

/**
 * What the fixture saw: emits the method key when a call starts (`'slow'`, `'count'`, ...) and
 * `'count-aborted'` when a Count stream's `ctx.signal` aborts; `calls` counts calls per key.
 */
export class EchoProbe extends EventEmitter {
  readonly calls = new Map<string, number>();

  record(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    this.emit(method);
  }
}

/** The EchoService implemented with the kit, as echo.proto documents it. */
export function createEchoImplementation(probe: EchoProbe): EchoImplementation {
  return {
    async echo(request) {
      probe.record('echo');
      return { payload: request.payload, text: request.text };
    },
    async mutate(_request, ctx) {
      probe.record('mutate');
      return { actor: ctx.principal?.actor ?? '', role: ctx.principal?.role ?? '' };
    },
    async purge(_request, ctx) {
      probe.record('purge');
      return { actor: ctx.principal?.actor ?? '' };
    },
    async fail(request) {
      probe.record('fail');
      if (request.kind === 'unexpected') throw new TypeError(request.message);
      const match = FAIL_KINDS.find(([kind]) => kind === request.kind);
      if (!match) throw new InvalidArgumentError(`unknown failure kind "${request.kind}"`);
      throw new match[1](request.message);
    },
    async slow(request, ctx) {
      const remaining = ctx.deadline ? ctx.deadline.getTime() - Date.now() : -1;
      probe.record('slow');
      await sleep(request.delayMs, ctx.signal);
      return { deadlineRemainingMs: Math.round(remaining) };
    },
    async *count(request, ctx) {
      probe.record('count');
      if (request.count > 10_000)
        throw new InvalidArgumentError(`count must be at most 10000; got ${request.count}`);
      ctx.signal.addEventListener('abort', () => probe.emit('count-aborted', ctx.signal.reason), {
        once: true,
      });
      for (let index = 0; index < request.count; index++) {
        if (index > 0 && request.intervalMs > 0) await sleep(request.intervalMs, ctx.signal);
        yield { index };
      }
    },
    async sum(requests) {
      probe.record('sum');
      let total = 0;
      let messages = 0;
      for await (const request of requests) {
        total += request.value;
        messages++;
      }
      return { total, messages };
    },
  };
}

/** A started echo server and what a test needs to talk to it. */
export interface EchoServer {
  server: ServiceServer;
  address: string;
  probe: EchoProbe;
  logs: CapturedLogger;
}

/** Options of {@link startEchoServer}: server options plus handler overrides. */
export type EchoServerOptions = Partial<ServiceServerOptions> & { override?: Partial<EchoImplementation> };

/** Starts an EchoService on 127.0.0.1:0 with the test tokens and the echo policy. */
export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const { override, ...serverOptions } = options;
  const probe = new EchoProbe();
  const logs = captureLogger();
  const server = createServiceServer({
    name: 'echo',
    address: '127.0.0.1:0',
    logger: logs.logger,
    auth: { tokens: TEST_TOKENS },
    ...serverOptions,
  });
  server.add(testing.EchoServiceService, { ...createEchoImplementation(probe), ...override }, ECHO_POLICY);
  const { address } = await server.start();
  return { server, address, probe, logs };
}
