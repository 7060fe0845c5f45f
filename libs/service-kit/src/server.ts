import {
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { sleep } from './abortable.js';
import { createAuthInterceptor } from './auth-interceptor.js';
import type { AuthOptions, RequiredRole } from './auth.js';
import { toGrpcHandler } from './call-handlers.js';
import { createLogger, type Logger } from './logger.js';
import { DEFAULT_MAX_MESSAGE_BYTES, OversizedMessage, receiveCap } from './limits.js';
import { createReflectionService } from './reflection.js';
import { serviceNameOf } from './service-name.js';
import type { ServiceDefinitionLike, ServiceImplementation, ServicePolicy } from './service-types.js';

/** Options of {@link createServiceServer}. */
export interface ServiceServerOptions {
  /** Service (app) name, used in logs: `registry`, `router`, ... */
  name: string;
  /** Where to listen, `host:port`; port 0 picks a free port (see `start()`'s result). */
  address: string;
  /** Default: `createLogger(name)`. */
  logger?: Logger;
  /** Largest message accepted or sent. Default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  maxMessageBytes?: number;
  /** Accepted bearer tokens. Without it, every method whose policy asks for a role is refused. */
  auth?: AuthOptions;
  /**
   * How long health reports NOT_SERVING while calls are still accepted, at the start of
   * shutdown, so load balancers stop routing here first. Default 0.
   */
  drainDelayMs?: number;
  /** How long in-flight calls may take to finish during shutdown before they are cancelled. Default 10000. */
  shutdownTimeoutMs?: number;
}

/** The address a server actually listens on. */
export interface BoundAddress {
  /** `host:port` with the real port. */
  address: string;
  port: number;
}

/** A gRPC server run the Slipway way: async handlers, auth, health, reflection, graceful shutdown. */
export interface ServiceServer {
  readonly name: string;
  /**
   * Serves `definition` with `implementation` (one async handler per method). `policy` names the
   * role each method requires (by method key, plus `default`); without it every method is open.
   * Call before `start()`.
   */
  add<D extends ServiceDefinitionLike>(
    definition: D,
    implementation: ServiceImplementation<D>,
    policy?: ServicePolicy<D>,
  ): this;
  /** Binds and serves; logs `{"msg":"listening","service":name,"address":"host:port"}`. */
  start(): Promise<BoundAddress>;
  /** Registers a closer run after the server stopped, in reverse order of registration. */
  onShutdown(fn: () => Promise<void> | void, label: string): void;
  /**
   * Registers a hook run when calls stop being accepted, before in-flight calls are awaited: the
   * place to end open-ended streams (watches), which would otherwise hold shutdown until
   * `shutdownTimeoutMs`. Errors are logged.
   */
  onDrain(fn: () => void, label: string): void;
  /**
   * Stops gracefully: health NOT_SERVING for `drainDelayMs` (calls still accepted), then new
   * calls refused while in-flight calls finish (at most `shutdownTimeoutMs`, then cancelled),
   * then the closers. Idempotent: later calls return the same promise. Never rejects.
   */
  shutdown(reason?: string): Promise<void>;
}

/** Creates a {@link ServiceServer}. Nothing is bound until `start()`. */
export function createServiceServer(options: ServiceServerOptions): ServiceServer {
  return new SlipwayServiceServer(options);
}

interface Closer {
  fn: () => Promise<void> | void;
  label: string;
}

class SlipwayServiceServer implements ServiceServer {
  readonly name: string;
  readonly #options: ServiceServerOptions;
  readonly #logger: Logger;
  readonly #server: Server;
  readonly #health = new HealthImplementation({ '': 'NOT_SERVING' });
  readonly #requiredRoles = new Map<string, RequiredRole>();
  readonly #serviceNames: string[] = [];
  readonly #closers: Closer[] = [];
  readonly #drainHooks: Array<{ fn: () => void; label: string }> = [];
  #starting: Promise<BoundAddress> | undefined;
  #bound = false;
  #stopping: Promise<void> | undefined;

  constructor(options: ServiceServerOptions) {
    this.name = options.name;
    this.#options = options;
    this.#logger = options.logger ?? createLogger(options.name);
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#server = new Server({
      'grpc.max_receive_message_length': receiveCap(maxMessageBytes),
      'grpc.max_send_message_length': maxMessageBytes,
      interceptors: [
        createAuthInterceptor({
          auth: options.auth,
          requiredRole: (path) => this.#requiredRoles.get(path) ?? 'none',
          logger: this.#logger,
        }),
      ],
    });
  }

  add<D extends ServiceDefinitionLike>(
    definition: D,
    implementation: ServiceImplementation<D>,
    policy?: ServicePolicy<D>,
  ): this {
    if (this.#starting) throw new Error(`${this.name}: add() must be called before start()`);
    const serviceName = serviceNameOf(definition);
    if (this.#serviceNames.includes(serviceName))
      throw new Error(`${this.name}: ${serviceName} is already added`);
    const handlers: UntypedServiceImplementation = {};
    const limit = this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const guarded: Record<string, unknown> = {};
    const policyByKey = (policy ?? {}) as Readonly<Record<string, RequiredRole | undefined>>;
    for (const [key, method] of Object.entries(definition)) {
      const handler: unknown = (implementation as Record<string, unknown>)[key];
      if (typeof handler !== 'function') {
        throw new Error(`${this.name}: ${serviceName} has no handler for ${key} (${method.path})`);
      }
      handlers[key] = toGrpcHandler(method, handler.bind(implementation) as never, this.#logger);
      this.#requiredRoles.set(method.path, policyByKey[key] ?? policyByKey['default'] ?? 'none');
      const decode = method.requestDeserialize.bind(method);
      guarded[key] = {
        ...method,
        requestDeserialize: (bytes: Buffer) =>
          bytes.length > limit ? new OversizedMessage(bytes.length, limit) : decode(bytes),
      };
    }
    this.#server.addService(guarded as unknown as ServiceDefinition, handlers);
    this.#serviceNames.push(serviceName);
    this.#health.setStatus(serviceName, 'NOT_SERVING');
    return this;
  }

  start(): Promise<BoundAddress> {
    if (this.#stopping) return Promise.reject(new Error(`${this.name}: start() after shutdown()`));
    this.#starting ??= this.#bind();
    return this.#starting;
  }

  onShutdown(fn: () => Promise<void> | void, label: string): void {
    this.#closers.push({ fn, label });
  }

  onDrain(fn: () => void, label: string): void {
    this.#drainHooks.push({ fn, label });
  }

  shutdown(reason = 'requested'): Promise<void> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #bind(): Promise<BoundAddress> {
    this.#health.addToServer(this.#server);
    createReflectionService(this.#serviceNames).addToServer(this.#server);
    const { address } = this.#options;
    const port = await new Promise<number>((resolve, reject) => {
      this.#server.bindAsync(address, ServerCredentials.createInsecure(), (err, boundPort) =>
        err
          ? reject(new Error(`${this.name}: cannot listen on ${address}: ${err.message}`, { cause: err }))
          : resolve(boundPort),
      );
    });
    this.#bound = true;
    for (const service of ['', ...this.#serviceNames]) this.#health.setStatus(service, 'SERVING');
    const bound = { address: `${address.slice(0, address.lastIndexOf(':'))}:${port}`, port };
    this.#logger.info({ service: this.name, address: bound.address }, 'listening');
    return bound;
  }

  async #stop(reason: string): Promise<void> {
    const { drainDelayMs = 0, shutdownTimeoutMs = 10_000 } = this.#options;
    const log = this.#logger;
    log.info({ service: this.name, reason }, 'shutting down');
    // Awaited only while a start() is in flight, so that with no drain delay new calls are
    // refused synchronously, before shutdown() even returns.
    if (this.#starting && !this.#bound) await this.#starting.catch(() => undefined);
    if (this.#bound) {
      for (const service of ['', ...this.#serviceNames]) this.#health.setStatus(service, 'NOT_SERVING');
      log.info({ phase: 'drain', drainDelayMs }, 'health is NOT_SERVING; still accepting calls');
      if (drainDelayMs > 0) await sleep(drainDelayMs);
      log.info({ phase: 'stop', shutdownTimeoutMs }, 'refusing new calls; waiting for in-flight calls');
      const stopped = this.#tryShutdown(shutdownTimeoutMs);
      for (const { fn, label } of this.#drainHooks) {
        try {
          fn();
        } catch (err) {
          log.error({ err, hook: label }, 'drain hook failed');
        }
      }
      if (!(await stopped)) {
        log.warn(
          { phase: 'stop', shutdownTimeoutMs },
          'in-flight calls did not finish in time; cancelling them',
        );
      }
    }
    // Releases grpc-js resources even when start() never bound, and cancels stragglers.
    this.#server.forceShutdown();
    log.info({ phase: 'close', closers: this.#closers.length }, 'server stopped; running closers');
    for (const { fn, label } of [...this.#closers].reverse()) {
      try {
        await fn();
      } catch (err) {
        log.error({ err, closer: label }, 'closer failed');
      }
    }
    log.info({ service: this.name }, 'shutdown complete');
  }

  #tryShutdown(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
