/** OTLP transports the standard `OTEL_EXPORTER_OTLP_*_PROTOCOL` variables may name. */
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

/** What the trace pipeline should do with finished spans, decided from `OTEL_*` variables. */
export type TraceExportPlan =
  | { readonly export: false; readonly reason: string; readonly warnings: readonly string[] }
  | {
      readonly export: true;
      readonly protocol: OtlpProtocol;
      readonly endpoint: string;
      readonly warnings: readonly string[];
    };

/** True when `OTEL_SDK_DISABLED` is "true" (case-insensitive), as the specification says. */
export function isSdkDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true';
}

const protocols: readonly OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

/** Blank means unset, as everywhere in Slipway's configuration. */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/**
 * Decides from the standard variables whether and how spans are exported. Without an endpoint
 * nothing is exported: the OTel default (localhost:4318) would make every app that is run without
 * a collector retry connections forever. Pure, so the rules are tested without starting an SDK.
 */
export function resolveTraceExport(env: NodeJS.ProcessEnv = process.env): TraceExportPlan {
  const warnings: string[] = [];
  const exporters = read(env, 'OTEL_TRACES_EXPORTER')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (exporters?.includes('none')) {
    return { export: false, reason: 'OTEL_TRACES_EXPORTER=none', warnings };
  }
  if (exporters && exporters.some((e) => e !== 'otlp')) {
    warnings.push(
      `OTEL_TRACES_EXPORTER="${exporters.join(',')}": only "otlp" and "none" are supported; using otlp`,
    );
  }

  const endpointVar = read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
    ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
    : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const endpoint = read(env, endpointVar);
  if (!endpoint) {
    return { export: false, reason: 'no OTEL_EXPORTER_OTLP_ENDPOINT is set', warnings };
  }

  const protocolVar = read(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const requested = read(env, protocolVar) ?? 'http/protobuf';
  if (!(protocols as readonly string[]).includes(requested)) {
    warnings.push(
      `${protocolVar}="${requested}" is not one of ${protocols.join(', ')}; traces are not exported`,
    );
    return { export: false, reason: `unsupported protocol "${requested}"`, warnings };
  }
  const protocol = requested as OtlpProtocol;

  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    warnings.push(
      `${endpointVar}="${endpoint}" is not a URL (e.g. http://127.0.0.1:4318); traces are not exported`,
    );
    return { export: false, reason: 'invalid endpoint', warnings };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    warnings.push(
      `${endpointVar}="${endpoint}" must start with http:// or https://; traces are not exported`,
    );
    return { export: false, reason: 'invalid endpoint', warnings };
  }
  return { export: true, protocol, endpoint, warnings };
}

/**
 * Whether to load @opentelemetry/instrumentation-grpc, by the standard
 * `OTEL_NODE_ENABLED_INSTRUMENTATIONS` list (e.g. `grpc`). Off by default: every Slipway server
 * and client traces its calls through the service kit, which costs a fraction of the generic
 * instrumentation (that one measured at about a quarter of the worker's CPU per request). Enable
 * it only for grpc-js code that does not use the kit; with the kit too, calls get two spans.
 */
export function grpcInstrumentationEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env['OTEL_NODE_ENABLED_INSTRUMENTATIONS'] ?? '').split(',').some((name) => name.trim() === 'grpc');
}
