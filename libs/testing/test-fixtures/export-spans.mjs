// Sends three spans (parent SERVER, child CLIENT with attributes, an ERROR status and a link, and
// the linked span) through the real OTLP exporter for FIXTURE_PROTOCOL (grpc | http/protobuf |
// http/json) to FIXTURE_ENDPOINT, then logs their ids. Runs as its own process because the SDK's
// "module" builds cannot load inside vitest with the "module" export condition.
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { log } from './echo.mjs';

const protocol = process.env.FIXTURE_PROTOCOL;
const endpoint = process.env.FIXTURE_ENDPOINT;
const exporter =
  protocol === 'grpc'
    ? new GrpcExporter({ url: endpoint })
    : protocol === 'http/json'
      ? new JsonExporter({ url: `${endpoint}/v1/traces` })
      : new ProtoExporter({ url: `${endpoint}/v1/traces` });

const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': `svc-${protocol}` }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer('receiver-test', '1.2.3');
const parent = tracer.startSpan('parent', { kind: SpanKind.SERVER });
const linked = tracer.startSpan('linked');
const child = tracer.startSpan(
  'child',
  {
    kind: SpanKind.CLIENT,
    attributes: {
      'slipway.deployment': 'fraud',
      'slipway.batch.size': 8,
      'slipway.queue.time_ms': 1.5,
      'slipway.shadow': true,
      'slipway.variants': ['stable', 'canary'],
    },
    links: [{ context: linked.spanContext(), attributes: { reason: 'batched' } }],
  },
  trace.setSpan(context.active(), parent),
);
child.setStatus({ code: SpanStatusCode.ERROR, message: 'model "fraud" has no version 9' });
child.end();
linked.end();
parent.end();
await provider.shutdown();

log('exported', {
  traceId: parent.spanContext().traceId,
  parentSpanId: parent.spanContext().spanId,
  childSpanId: child.spanContext().spanId,
  linkedTraceId: linked.spanContext().traceId,
  linkedSpanId: linked.spanContext().spanId,
});
