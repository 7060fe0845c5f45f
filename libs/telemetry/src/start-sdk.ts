import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  NoopSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  grpcInstrumentationEnabled,
  isSdkDisabled,
  resolveTraceExport,
  type OtlpProtocol,
} from './export-config.js';
import { setTelemetryState, telemetryState } from './state.js';
import { warn } from './warn.js';

function createExporter(protocol: OtlpProtocol): SpanExporter {
  // The exporters read the endpoint, headers, timeout and compression from the standard
  // variables themselves, including the `/v1/traces` suffix rule for the HTTP transports.
  switch (protocol) {
    case 'grpc':
      return new GrpcTraceExporter();
    case 'http/json':
      return new JsonTraceExporter();
    case 'http/protobuf':
      return new ProtoTraceExporter();
  }
}

function createSpanProcessor(): SpanProcessor {
  const plan = resolveTraceExport(process.env);
  for (const message of plan.warnings) warn(message);
  if (!plan.export) {
    // Spans are still created and sampled so that trace ids reach the logs.
    return new NoopSpanProcessor();
  }
  try {
    // Batch size, queue and delay follow OTEL_BSP_* when set.
    return new BatchSpanProcessor(createExporter(plan.protocol));
  } catch (error) {
    warn(
      `cannot create the ${plan.protocol} trace exporter for ${plan.endpoint}: ${String(error)}; traces are not exported`,
    );
    return new NoopSpanProcessor();
  }
}

/**
 * With no exporter and no OTEL_TRACES_SAMPLER, root spans are not recorded: nobody would ever
 * see them, and recording them cost the inference worker about a fifth of its CPU per request.
 * They still get trace and span ids (so logs carry trace ids) and a caller's sampled trace is
 * still recorded and continued (parent-based).
 */
function defaultSampler(): Sampler | undefined {
  if (process.env['OTEL_TRACES_SAMPLER']?.trim()) return undefined;
  if (resolveTraceExport(process.env).export) return undefined;
  return new ParentBasedSampler({ root: new AlwaysOffSampler() });
}

/**
 * Starts the SDK once per process (see `startTelemetry`). Kept apart from the rest of the package
 * so that importing `@slipway/telemetry` never loads the SDK: only the register entry does.
 */
export function startSdk(): boolean {
  const existing = telemetryState();
  if (existing !== undefined) return existing !== null;
  if (isSdkDisabled()) {
    setTelemetryState(null);
    return false;
  }
  try {
    if (!process.env['OTEL_LOG_LEVEL']?.trim()) {
      // Export failures are reported through diag, which is silent by default.
      diag.setLogger(new DiagConsoleLogger(), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    }
    const prometheus = new PrometheusExporter({ preventServerStart: true });
    const sampler = defaultSampler();
    const sdk = new NodeSDK({
      instrumentations: grpcInstrumentationEnabled() ? [new GrpcInstrumentation()] : [],
      spanProcessors: [createSpanProcessor()],
      ...(sampler ? { sampler } : {}),
      metricReaders: [prometheus],
      // No log pipeline: the SDK would otherwise default to an OTLP log exporter on localhost.
      logRecordProcessors: [],
      // An explicit OTEL_PROPAGATORS still wins; W3C trace-context + baggage is what Slipway relies on.
      ...(process.env['OTEL_PROPAGATORS']?.trim()
        ? {}
        : {
            textMapPropagator: new CompositePropagator({
              propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
            }),
          }),
    });
    sdk.start();
    setTelemetryState({ sdk, prometheus });
    return true;
  } catch (error) {
    warn(`telemetry did not start: ${error instanceof Error ? error.stack : String(error)}`);
    setTelemetryState(null);
    return false;
  }
}
