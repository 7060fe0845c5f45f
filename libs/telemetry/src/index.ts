// Nothing here loads the OpenTelemetry SDK: only the `./register` entry (or startTelemetry) does.
export { SlipwayAttributes, type SlipwayAttributeKey } from './attributes.js';
export {
  isSdkDisabled,
  resolveTraceExport,
  type OtlpProtocol,
  type TraceExportPlan,
} from './export-config.js';
export {
  isTelemetryStarted,
  shutdownTelemetry,
  startTelemetry,
  type ShutdownTelemetryOptions,
} from './lifecycle.js';
export { startMetricsServer, type MetricsServer } from './metrics-server.js';
export { currentTraceId, meter, tracer, withSpan } from './spans.js';
