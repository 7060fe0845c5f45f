import type { Metadata } from '@grpc/grpc-js';
import type { Principal, RequiredRole } from './auth.js';
import type { Logger } from './logger.js';

/**
 * One method of a grpc-js service definition, as ts-proto generates it (`XServiceService.method`).
 * The literal types of `requestStream`/`responseStream` decide the handler's shape.
 */
export interface MethodDefinitionLike {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestSerialize: (value: never) => Buffer;
  readonly requestDeserialize: (value: Buffer) => unknown;
  readonly responseSerialize: (value: never) => Buffer;
  readonly responseDeserialize: (value: Buffer) => unknown;
}

/** A grpc-js service definition: method key (camelCase) → method. */
export type ServiceDefinitionLike = { readonly [method: string]: MethodDefinitionLike };

/** The request message type of a method. */
export type RequestOf<M> = M extends { requestDeserialize: (value: Buffer) => infer Req } ? Req : never;

/** The response message type of a method. */
export type ResponseOf<M> = M extends { responseSerialize: (value: infer Res) => Buffer } ? Res : never;

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** Full method path, e.g. `/slipway.testing.v1.EchoService/Echo`. */
  readonly method: string;
  /** Request metadata (the `authorization` header is removed once verified). */
  readonly metadata: Metadata;
  /** When the caller stops waiting; undefined when the caller set no deadline. */
  readonly deadline: Date | undefined;
  /** Aborted when the call is cancelled or its deadline passes; pass it to downstream work. */
  readonly signal: AbortSignal;
  /** Who called, when the call carried a known bearer token. */
  readonly principal: Principal | undefined;
  /** The server's logger with `method` bound. */
  readonly logger: Logger;
  /** The caller's address as grpc-js reports it. */
  readonly peer: string;
}

/** Unary: one request, one response. */
export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;
/** Server streaming: one request, responses yielded (usually an async generator). */
export type ServerStreamingHandler<Req, Res> = (request: Req, ctx: CallContext) => AsyncIterable<Res>;
/** Client streaming: requests iterated, one response. */
export type ClientStreamingHandler<Req, Res> = (
  requests: AsyncIterable<Req>,
  ctx: CallContext,
) => Promise<Res>;
/** Bidirectional streaming: requests iterated, responses yielded. */
export type BidiStreamingHandler<Req, Res> = (
  requests: AsyncIterable<Req>,
  ctx: CallContext,
) => AsyncIterable<Res>;

/** The handler shape a method needs, from its streaming flags. */
export type HandlerFor<M> = M extends { requestStream: true }
  ? M extends { responseStream: true }
    ? BidiStreamingHandler<RequestOf<M>, ResponseOf<M>>
    : ClientStreamingHandler<RequestOf<M>, ResponseOf<M>>
  : M extends { responseStream: true }
    ? ServerStreamingHandler<RequestOf<M>, ResponseOf<M>>
    : UnaryHandler<RequestOf<M>, ResponseOf<M>>;

/** An async implementation of every method of a service definition. */
export type ServiceImplementation<D extends ServiceDefinitionLike> = { [K in keyof D]: HandlerFor<D[K]> };

/**
 * The role each method requires, by method key; methods not listed get `default`
 * (itself defaulting to `none`, i.e. open).
 */
export type ServicePolicy<D extends ServiceDefinitionLike> = { readonly default?: RequiredRole } & {
  readonly [K in keyof D]?: RequiredRole;
};
