import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { sleep } from './abortable.js';
import type { Span } from '@opentelemetry/api';
import { CancelledError, SlipwayError, UnavailableError } from './errors.js';
import { endCallSpan, startClientSpan, statusCodeOf } from './tracing.js';
import { DEFAULT_RETRY, backoffDelayMs, type RetryOptions } from './retry.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './limits.js';
import { serviceNameOf } from './service-name.js';
import type { RequestOf, ResponseOf, ServiceDefinitionLike } from './service-types.js';
import { fromGrpcError, isGrpcServiceError } from './status-mapping.js';

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** Deadline of a call that names none, in ms from its start. Default 10000. */
  defaultDeadlineMs?: number;
  /** Retries of unary calls; see {@link RetryOptions} for defaults. */
  retry?: Partial<RetryOptions>;
  /** Extra grpc-js channel options (keepalive, load balancing, ...). */
  channelOptions?: grpc.ChannelOptions;
  /** Largest message sent or received. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Default: insecure (plaintext), as inside the cluster. */
  credentials?: grpc.ChannelCredentials;
}

/** What a call needs from the call it serves, for deadline and cancellation propagation. */
export interface ParentCall {
  deadline?: Date | undefined;
  signal?: AbortSignal;
}

/** Per-call options. */
export interface ClientCallOptions {
  /**
   * A Date, or a timeout in ms from now; `Infinity` for none (open-ended watches only).
   * Default: the client's `defaultDeadlineMs`.
   */
  deadline?: Date | number;
  /**
   * The server call this one is made for (a handler's `ctx`): the call gets the earlier of the
   * parent's deadline and its own, and is cancelled with the parent.
   */
  parent?: ParentCall;
  /** Cancels the call when aborted. */
  signal?: AbortSignal;
  /** Extra request metadata. */
  metadata?: grpc.Metadata;
}

type Requests<Req> = AsyncIterable<Req> | Iterable<Req>;

/** The client method for a service method, from its streaming flags. */
export type ClientMethodFor<M> = M extends { requestStream: true }
  ? M extends { responseStream: true }
    ? (requests: Requests<RequestOf<M>>, options?: ClientCallOptions) => AsyncIterable<ResponseOf<M>>
    : (requests: Requests<RequestOf<M>>, options?: ClientCallOptions) => Promise<ResponseOf<M>>
  : M extends { responseStream: true }
    ? (request: RequestOf<M>, options?: ClientCallOptions) => AsyncIterable<ResponseOf<M>>
    : (request: RequestOf<M>, options?: ClientCallOptions) => Promise<ResponseOf<M>>;

/**
 * A promise/async-iterator client: one method per definition key. Failures reject with the typed
 * errors of `errors.ts` (`err instanceof NotFoundError`), each carrying the status `code`.
 */
export type ServiceClient<D extends ServiceDefinitionLike> = { [K in keyof D]: ClientMethodFor<D[K]> } & {
  /** Resolves once the channel is connected; rejects with UnavailableError after `deadline`. */
  waitForReady(deadline: Date | number): Promise<void>;
  /** Closes the channel; calls in flight are cancelled. */
  close(): void;
};

type Callback = (err: grpc.ServiceError | null, response?: unknown) => void;
type CallOpts = { deadline: Date | number };
interface RawMethods {
  [key: string]: (...args: unknown[]) => unknown;
}

/**
 * Creates a client for `definition` at `address`. Built on `makeGenericClientConstructor` and its
 * generated methods, so the OpenTelemetry gRPC instrumentation sees (and traces) every call.
 *
 * Every call has a deadline. Unary calls are retried on `retry.codes` only, with full-jitter
 * exponential backoff, never past the deadline; streaming calls are never retried.
 */
export function createClient<D extends ServiceDefinitionLike>(
  definition: D,
  address: string,
  options: ClientOptions = {},
): ServiceClient<D> {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const Client = grpc.makeGenericClientConstructor(
    definition as unknown as grpc.ServiceDefinition,
    serviceNameOf(definition),
  );
  const raw = new Client(address, options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    // grpc-js waits 1 s (growing to 120 s) before reconnecting to a peer that went away; Slipway's
    // peers restart in well under a second, so reconnect sooner and cap the wait at 5 s.
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 5_000,
    ...options.channelOptions,
  });
  const methods = raw as unknown as RawMethods;
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const defaultDeadlineMs = options.defaultDeadlineMs ?? 10_000;

  const prepare = (path: string, callOptions: ClientCallOptions = {}): PreparedCall => {
    const metadata = callOptions.metadata?.clone() ?? new grpc.Metadata();
    const span = startClientSpan(path, metadata);
    if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
    const own = callOptions.deadline ?? defaultDeadlineMs;
    let deadline: Date | number =
      own instanceof Date ? own : own === Infinity ? Infinity : new Date(Date.now() + own);
    const parentDeadline = callOptions.parent?.deadline;
    if (parentDeadline && parentDeadline.getTime() < deadlineMs(deadline)) deadline = parentDeadline;
    const signals = [callOptions.signal, callOptions.parent?.signal].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    return { metadata, deadline, signal, span };
  };

  const client: Record<string, unknown> = {
    waitForReady: (deadline: Date | number) =>
      new Promise<void>((resolve, reject) => {
        const when = deadline instanceof Date ? deadline : new Date(Date.now() + deadline);
        raw.waitForReady(when, (err) =>
          err
            ? reject(new UnavailableError(`${address} was not ready in time: ${err.message}`, { cause: err }))
            : resolve(),
        );
      }),
    close: () => raw.close(),
  };

  for (const [key, method] of Object.entries(definition)) {
    const invoke = methods[key]!.bind(raw);
    const path = method.path;
    if (!method.requestStream && !method.responseStream) {
      client[key] = (request: unknown, callOptions?: ClientCallOptions) => {
        const call = prepare(path, callOptions);
        return traced(call.span, unaryWithRetry(invoke, request, call, retry));
      };
    } else if (!method.requestStream) {
      client[key] = (request: unknown, callOptions?: ClientCallOptions) =>
        readResponses(
          () => prepare(path, callOptions),
          (call) => invoke(request, call.metadata, opts(call)) as grpc.ClientReadableStream<unknown>,
        );
    } else if (!method.responseStream) {
      client[key] = (requests: Requests<unknown>, callOptions?: ClientCallOptions) => {
        const call = prepare(path, callOptions);
        return traced(call.span, clientStream(invoke, requests, call));
      };
    } else {
      client[key] = (requests: Requests<unknown>, callOptions?: ClientCallOptions) =>
        readResponses(
          () => prepare(path, callOptions),
          (call) => {
            const duplex = invoke(call.metadata, opts(call)) as grpc.ClientDuplexStream<unknown, unknown>;
            const settled = new AbortController();
            duplex.once('status', () => settled.abort());
            // A failing request source cancels the call; the consumer then sees CancelledError.
            writeRequests(duplex, requests, settled.signal).catch(() => duplex.cancel());
            return duplex;
          },
        );
    }
  }
  return client as ServiceClient<D>;
}

interface PreparedCall {
  metadata: grpc.Metadata;
  /** The call's CLIENT span; its trace context is already in `metadata`. */
  span: Span;
  /** A Date, or Infinity for no deadline. */
  deadline: Date | number;
  signal: AbortSignal | undefined;
}

/** Ends the call's span when its promise settles, with the status code it ended with. */
function traced<T>(span: Span, result: Promise<T>): Promise<T> {
  result.then(
    () => endCallSpan(span, grpc.status.OK),
    (err: unknown) => endCallSpan(span, statusCodeOf(err), (err as Error | undefined)?.message),
  );
  return result;
}

function deadlineMs(deadline: Date | number): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

function opts(call: PreparedCall): CallOpts {
  return { deadline: call.deadline };
}

async function unaryWithRetry(
  invoke: (...args: unknown[]) => unknown,
  request: unknown,
  call: PreparedCall,
  retry: RetryOptions,
): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await unaryAttempt(invoke, request, call);
    } catch (err) {
      const failure = toClientError(err);
      const retryable = failure instanceof SlipwayError && retry.codes.includes(failure.code as grpc.status);
      if (!retryable || attempt >= retry.maxAttempts || call.signal?.aborted) throw failure;
      const delay = backoffDelayMs(attempt, retry);
      if (Date.now() + delay >= deadlineMs(call.deadline)) throw failure;
      await sleep(delay, call.signal).catch(() => {
        throw new CancelledError('the call was cancelled while waiting to retry', { cause: failure });
      });
    }
  }
}

function unaryAttempt(
  invoke: (...args: unknown[]) => unknown,
  request: unknown,
  call: PreparedCall,
): Promise<unknown> {
  const { signal } = call;
  if (signal?.aborted) return Promise.reject(new CancelledError('the call was cancelled before it started'));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => pending.cancel();
    const callback: Callback = (err, response) => {
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(fromGrpcError(err));
      else resolve(response);
    };
    const pending = invoke(request, call.metadata.clone(), opts(call), callback) as grpc.ClientUnaryCall;
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function* readResponses(
  prepare: () => PreparedCall,
  start: (
    call: PreparedCall,
  ) => grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>,
): AsyncGenerator<unknown> {
  const call = prepare();
  if (call.signal?.aborted) {
    endCallSpan(call.span, grpc.status.CANCELLED);
    throw new CancelledError('the call was cancelled before it started');
  }
  const stream = start(call);
  let failure: unknown;
  // Errors reach the consumer through the iterator; this listener only keeps a late CANCELLED
  // (after the consumer left) from becoming an unhandled 'error' event.
  stream.on('error', () => undefined);
  const onAbort = (): void => stream.cancel();
  call.signal?.addEventListener('abort', onAbort, { once: true });
  let finished = false;
  try {
    for await (const message of stream.iterator({ destroyOnReturn: false })) yield message;
    finished = true;
  } catch (err) {
    finished = true;
    failure = toClientError(err);
    throw failure;
  } finally {
    endCallSpan(
      call.span,
      failure !== undefined ? statusCodeOf(failure) : finished ? grpc.status.OK : grpc.status.CANCELLED,
    );
    call.signal?.removeEventListener('abort', onAbort);
    // The consumer broke out early: tell the server to stop producing.
    if (!finished) stream.cancel();
  }
}

function clientStream(
  invoke: (...args: unknown[]) => unknown,
  requests: Requests<unknown>,
  call: PreparedCall,
): Promise<unknown> {
  const { signal } = call;
  if (signal?.aborted) return Promise.reject(new CancelledError('the call was cancelled before it started'));
  return new Promise((resolve, reject) => {
    const settled = new AbortController();
    const onAbort = (): void => writable.cancel();
    const callback: Callback = (err, response) => {
      settled.abort();
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(fromGrpcError(err));
      else resolve(response);
    };
    const writable = invoke(call.metadata, opts(call), callback) as grpc.ClientWritableStream<unknown>;
    signal?.addEventListener('abort', onAbort, { once: true });
    writeRequests(writable, requests, settled.signal).catch((err: unknown) => {
      // The request source failed: abandon the call and report the source's own error.
      settled.abort();
      signal?.removeEventListener('abort', onAbort);
      writable.cancel();
      reject(err);
    });
  });
}

async function writeRequests(
  call: grpc.ClientWritableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>,
  requests: Requests<unknown>,
  settled: AbortSignal,
): Promise<void> {
  for await (const request of requests) {
    if (settled.aborted) return;
    // Backpressure: wait until grpc-js has flushed, unless the call ends meanwhile.
    if (!call.write(request)) await once(call, 'drain', { signal: settled }).catch(() => undefined);
  }
  if (!settled.aborted) call.end();
}

function toClientError(err: unknown): unknown {
  return isGrpcServiceError(err) ? fromGrpcError(err) : err;
}
