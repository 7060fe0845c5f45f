import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/** Transport a span arrived on. */
export type OtlpTransport = 'grpc' | 'http/protobuf' | 'http/json';

/** An OTLP attribute value after decoding (int64 becomes a number, or a bigint beyond 2^53). */
export type OtlpAttributeValue =
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | null
  | OtlpAttributeValue[]
  | { [key: string]: OtlpAttributeValue };

/** A received span, identical whatever transport and encoding the exporter used. */
export interface OtlpSpan {
  /** 32 lowercase hex characters. */
  readonly traceId: string;
  /** 16 lowercase hex characters. */
  readonly spanId: string;
  /** The parent's span id, '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: 'UNSPECIFIED' | 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
  /** The resource's `service.name`, '' when absent. */
  readonly serviceName: string;
  readonly resource: Record<string, OtlpAttributeValue>;
  readonly scope: { readonly name: string; readonly version: string };
  readonly attributes: Record<string, OtlpAttributeValue>;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly status: { readonly code: 'UNSET' | 'OK' | 'ERROR'; readonly message: string };
  readonly events: readonly {
    readonly name: string;
    readonly timeUnixNano: bigint;
    readonly attributes: Record<string, OtlpAttributeValue>;
  }[];
  readonly links: readonly {
    readonly traceId: string;
    readonly spanId: string;
    readonly attributes: Record<string, OtlpAttributeValue>;
  }[];
  readonly transport: OtlpTransport;
}

/** An in-process OTLP trace collector for tests (gRPC and HTTP, protobuf and JSON). */
export interface OtlpReceiver {
  /** Value for `OTEL_EXPORTER_OTLP_ENDPOINT` with protocol `grpc`: `http://127.0.0.1:NNNN`. */
  readonly grpcEndpoint: string;
  /** Value for `OTEL_EXPORTER_OTLP_ENDPOINT` with `http/protobuf` or `http/json`: `http://127.0.0.1:MMMM`. */
  readonly httpEndpoint: string;
  /** Every span received so far, in arrival order. */
  spans(): OtlpSpan[];
  /** The spans of one trace, in arrival order. */
  trace(traceId: string): OtlpSpan[];
  /**
   * Resolves with all spans once `predicate(spans)` holds; rejects after `timeoutMs` (default
   * 10000) listing what did arrive.
   */
  waitForSpans(predicate: (spans: OtlpSpan[]) => boolean, timeoutMs?: number): Promise<OtlpSpan[]>;
  /** Forgets the spans received so far. */
  clear(): void;
  /** Stops both servers. Idempotent. */
  close(): Promise<void>;
}

const protoDir = fileURLToPath(new URL('../proto/', import.meta.url));
const serviceProto = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';
// Same conversion for the gRPC (proto-loader) and HTTP (protobufjs) paths, so one normaliser fits both.
const conversion = { keepCase: false, longs: String, enums: Number, defaults: false, oneofs: true } as const;

const spanKinds = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
const statusCodes = ['UNSET', 'OK', 'ERROR'] as const;

type Obj = Record<string, unknown>;
const asObj = (value: unknown): Obj => (value && typeof value === 'object' ? (value as Obj) : {});
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const asString = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Ids are bytes in protobuf and hex strings in OTLP/JSON. */
function toHex(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return typeof value === 'string' ? value.toLowerCase() : '';
}

function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  if (typeof value === 'string' && value !== '') return BigInt(value);
  return 0n;
}

function toInt(value: unknown): number | bigint {
  const big = toBigInt(value);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function anyValue(raw: unknown): OtlpAttributeValue {
  const value = asObj(raw);
  if ('stringValue' in value) return asString(value['stringValue']);
  if ('boolValue' in value) return value['boolValue'] === true;
  if ('intValue' in value) return toInt(value['intValue']);
  if ('doubleValue' in value) return Number(value['doubleValue']);
  if ('arrayValue' in value) return asList(asObj(value['arrayValue'])['values']).map(anyValue);
  if ('kvlistValue' in value) return attributes(asObj(value['kvlistValue'])['values']);
  if ('bytesValue' in value) {
    const bytes = value['bytesValue'];
    return bytes instanceof Uint8Array ? bytes : Buffer.from(asString(bytes), 'base64');
  }
  return null;
}

function attributes(raw: unknown): Record<string, OtlpAttributeValue> {
  const result: Record<string, OtlpAttributeValue> = {};
  for (const kv of asList(raw)) result[asString(asObj(kv)['key'])] = anyValue(asObj(kv)['value']);
  return result;
}

function enumIndex(value: unknown, names: readonly string[]): number {
  if (typeof value === 'number') return value;
  // Tolerate JSON producers that send enum names.
  const index = names.findIndex((name) => typeof value === 'string' && value.endsWith(name));
  return Math.max(index, 0);
}

/**
 * Normalises an ExportTraceServiceRequest in camelCase object form: protobuf decoded with
 * {@link conversion} or OTLP/JSON as posted.
 */
function normalise(request: unknown, transport: OtlpTransport): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const resourceSpans of asList(asObj(request)['resourceSpans'])) {
    const resource = attributes(asObj(asObj(resourceSpans)['resource'])['attributes']);
    const serviceName = typeof resource['service.name'] === 'string' ? resource['service.name'] : '';
    for (const scopeSpans of asList(asObj(resourceSpans)['scopeSpans'])) {
      const scope = asObj(asObj(scopeSpans)['scope']);
      for (const rawSpan of asList(asObj(scopeSpans)['spans'])) {
        const span = asObj(rawSpan);
        const status = asObj(span['status']);
        spans.push({
          traceId: toHex(span['traceId']),
          spanId: toHex(span['spanId']),
          parentSpanId: toHex(span['parentSpanId']),
          name: asString(span['name']),
          kind: spanKinds[enumIndex(span['kind'], spanKinds)] ?? 'UNSPECIFIED',
          serviceName,
          resource,
          scope: { name: asString(scope['name']), version: asString(scope['version']) },
          attributes: attributes(span['attributes']),
          startTimeUnixNano: toBigInt(span['startTimeUnixNano']),
          endTimeUnixNano: toBigInt(span['endTimeUnixNano']),
          status: {
            code: statusCodes[enumIndex(status['code'], statusCodes)] ?? 'UNSET',
            message: asString(status['message']),
          },
          events: asList(span['events']).map((raw) => ({
            name: asString(asObj(raw)['name']),
            timeUnixNano: toBigInt(asObj(raw)['timeUnixNano']),
            attributes: attributes(asObj(raw)['attributes']),
          })),
          links: asList(span['links']).map((raw) => ({
            traceId: toHex(asObj(raw)['traceId']),
            spanId: toHex(asObj(raw)['spanId']),
            attributes: attributes(asObj(raw)['attributes']),
          })),
          transport,
        });
      }
    }
  }
  return spans;
}

function loadProtobufTypes(): { request: protobuf.Type; response: protobuf.Type } {
  const root = new protobuf.Root();
  // Imports in the OTLP protos are rooted at the proto directory, not relative to the importer.
  root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : `${protoDir}${target}`);
  root.loadSync(serviceProto);
  return {
    request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  switch (request.headers['content-encoding']) {
    case 'gzip':
      return promisify(gunzip)(body);
    case 'deflate':
      return promisify(inflate)(body);
    default:
      return body;
  }
}

/**
 * Starts an OTLP trace receiver on 127.0.0.1 with ephemeral ports: gRPC
 * `opentelemetry.proto.collector.trace.v1.TraceService/Export` and HTTP `POST /v1/traces`
 * (`application/x-protobuf` or `application/json`). Point an app at it with
 * `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_EXPORTER_OTLP_PROTOCOL`.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  let received: OtlpSpan[] = [];
  const listeners = new Set<() => void>();
  const ingest = (spans: OtlpSpan[]): void => {
    received.push(...spans);
    for (const listener of listeners) listener();
  };

  const definition = protoLoader.loadSync(serviceProto, { ...conversion, includeDirs: [protoDir] });
  const traceService = (
    grpc.loadPackageDefinition(definition) as unknown as {
      opentelemetry: {
        proto: { collector: { trace: { v1: { TraceService: grpc.ServiceClientConstructor } } } };
      };
    }
  ).opentelemetry.proto.collector.trace.v1.TraceService;
  const grpcServer = new grpc.Server();
  grpcServer.addService(traceService.service, {
    Export(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
      ingest(normalise(call.request, 'grpc'));
      callback(null, {});
    },
  });
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );

  const types = loadProtobufTypes();
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'POST' || request.url?.split('?')[0] !== '/v1/traces') {
      response.writeHead(404).end();
      return;
    }
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim();
    try {
      const body = await readBody(request);
      if (contentType === 'application/x-protobuf') {
        ingest(normalise(types.request.toObject(types.request.decode(body), conversion), 'http/protobuf'));
        const reply = types.response.encode(types.response.create({})).finish();
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(reply));
      } else if (contentType === 'application/json') {
        ingest(normalise(JSON.parse(body.toString('utf8')), 'http/json'));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        response
          .writeHead(415, { 'content-type': 'text/plain' })
          .end(`unsupported content-type "${contentType}"`);
      }
    } catch (error) {
      response
        .writeHead(400, { 'content-type': 'text/plain' })
        .end(`cannot decode OTLP request: ${String(error)}`);
    }
  };
  const httpServer: HttpServer = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(0, '127.0.0.1', () => resolve());
  });
  const httpPort = (httpServer.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    grpcEndpoint: `http://127.0.0.1:${grpcPort}`,
    httpEndpoint: `http://127.0.0.1:${httpPort}`,
    spans: () => [...received],
    trace: (traceId) => received.filter((span) => span.traceId === traceId.toLowerCase()),
    clear() {
      received = [];
    },
    waitForSpans(predicate, timeoutMs = 10_000) {
      return new Promise<OtlpSpan[]>((resolve, reject) => {
        const check = (): void => {
          const snapshot = [...received];
          if (!predicate(snapshot)) return;
          done();
          resolve(snapshot);
        };
        const timer = setTimeout(() => {
          done();
          const names = received.map((s) => `${s.serviceName}:${s.name}(${s.kind})`).join(', ') || 'none';
          reject(new Error(`OTLP receiver: spans did not match within ${timeoutMs} ms; received: ${names}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    close() {
      closing ??= Promise.all([
        new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        }),
        // Exporters keep their channel open; waiting for them to hang up would stall teardown.
        Promise.resolve(grpcServer.forceShutdown()),
      ]).then(() => undefined);
      return closing;
    },
  };
}
