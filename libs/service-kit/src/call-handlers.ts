import { once } from 'node:events';
import { context } from '@opentelemetry/api';
import type {
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedHandleCall,
  sendUnaryData,
} from '@grpc/grpc-js';
import { iterateUntilAborted } from './abortable.js';
import { openCallScope, type CallScope, type SurfaceCall } from './call-context.js';
import type { Logger } from './logger.js';
import type { CallContext, MethodDefinitionLike } from './service-types.js';
import { InvalidArgumentError } from './errors.js';
import { OversizedMessage } from './limits.js';
import { toGrpcStatus } from './status-mapping.js';
import { endCallSpan, startServerSpan, type CallSpan } from './tracing.js';

type AnyHandler = (input: unknown, ctx: CallContext) => unknown;
type WritableCall = ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>;

/**
 * Adapts an async Slipway handler to the callback/stream API grpc-js expects. Every failure goes
 * through `toGrpcStatus`; once the call is cancelled or past its deadline, the failure reported
 * is that (the caller is gone, so nothing is logged as unexpected).
 */
export function toGrpcHandler(
  method: MethodDefinitionLike,
  handler: AnyHandler,
  logger: Logger,
): UntypedHandleCall {
  const methodLogger = logger.child({ method: method.path });
  const open = (call: SurfaceCall): CallScope => openCallScope(call, method.path, methodLogger);

  const path = method.path;
  if (!method.requestStream && !method.responseStream) {
    return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const scope = open(call);
      const traced = startServerSpan(path, call.metadata);
      context.with(traced.context, () =>
        respond(invoke(handler, call.request, scope.ctx), scope, callback, traced),
      );
    };
  }
  if (method.requestStream && !method.responseStream) {
    return (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const scope = open(call);
      const traced = startServerSpan(path, call.metadata);
      context.with(traced.context, () =>
        respond(invoke(handler, readRequests(call, scope.ctx.signal), scope.ctx), scope, callback, traced),
      );
    };
  }
  if (!method.requestStream) {
    return (call: ServerWritableStream<unknown, unknown>) => {
      const scope = open(call);
      const traced = startServerSpan(path, call.metadata);
      context.with(traced.context, () =>
        stream(
          () => {
            if (call.request instanceof OversizedMessage)
              throw new InvalidArgumentError(call.request.describe());
            return handler(call.request, scope.ctx);
          },
          call,
          scope,
          traced,
        ),
      );
    };
  }
  return (call: ServerDuplexStream<unknown, unknown>) => {
    const scope = open(call);
    const traced = startServerSpan(path, call.metadata);
    context.with(traced.context, () =>
      stream(() => handler(readRequests(call, scope.ctx.signal), scope.ctx), call, scope, traced),
    );
  };
}

function invoke(handler: AnyHandler, input: unknown, ctx: CallContext): Promise<unknown> {
  if (input instanceof OversizedMessage) return Promise.reject(new InvalidArgumentError(input.describe()));
  return new Promise((resolve) => resolve(handler(input, ctx)));
}

function respond(
  result: Promise<unknown>,
  scope: CallScope,
  callback: sendUnaryData<unknown>,
  traced: CallSpan,
): void {
  result
    .then(
      (response) => {
        endCallSpan(traced.span, 0);
        callback(null, response);
      },
      (err: unknown) => {
        const status = failureStatus(err, scope);
        endCallSpan(traced.span, status.code, status.details);
        callback(status);
      },
    )
    .catch((err: unknown) => scope.ctx.logger.error({ err }, 'could not send the response'))
    .finally(() => scope.close());
}

function stream(produce: () => unknown, call: WritableCall, scope: CallScope, traced: CallSpan): void {
  const { signal } = scope.ctx;
  const run = async (): Promise<void> => {
    const responses = produce() as AsyncIterable<unknown>;
    for await (const response of iterateUntilAborted(responses[Symbol.asyncIterator](), signal)) {
      // Backpressure: when grpc-js buffers past its high-water mark, wait for the peer to read.
      if (!call.write(response)) await once(call, 'drain', { signal });
    }
  };
  run()
    .then(
      () => {
        endCallSpan(traced.span, 0);
        call.end();
      },
      (err: unknown) => {
        const status = failureStatus(err, scope);
        endCallSpan(traced.span, status.code, status.details);
        if (!call.cancelled) call.emit('error', status);
      },
    )
    .catch((err: unknown) => scope.ctx.logger.error({ err }, 'could not end the response stream'))
    .finally(() => scope.close());
}

function failureStatus(err: unknown, scope: CallScope): ReturnType<typeof toGrpcStatus> {
  const { signal, logger } = scope.ctx;
  return toGrpcStatus(signal.aborted ? signal.reason : err, logger);
}

function readRequests(
  call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
  signal: AbortSignal,
): AsyncIterable<unknown> {
  // destroyOnReturn: false — a handler that stops reading early must not destroy a duplex call's
  // writable side with it.
  return rejectOversized(iterateUntilAborted(call.iterator({ destroyOnReturn: false }), signal));
}

async function* rejectOversized(messages: AsyncIterable<unknown>): AsyncIterable<unknown> {
  for await (const message of messages) {
    if (message instanceof OversizedMessage) throw new InvalidArgumentError(message.describe());
    yield message;
  }
}
