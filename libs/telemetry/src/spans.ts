import {
  context,
  isSpanContextValid,
  metrics,
  SpanStatusCode,
  trace,
  type Attributes,
  type Meter,
  type Span,
  type Tracer,
} from '@opentelemetry/api';

const defaultScope = '@slipway/telemetry';

/**
 * A tracer from the global provider. Safe to call before or without the SDK (it then returns a
 * no-op tracer that turns real once the SDK registers).
 * @param name instrumentation scope, usually the package name (`@slipway/router`).
 */
export function tracer(name: string, version?: string): Tracer {
  return trace.getTracer(name, version);
}

/**
 * A meter from the global provider; its instruments appear on `GET /metrics` of
 * {@link startMetricsServer}.
 * @param name instrumentation scope, usually the package name.
 */
export function meter(name: string, version?: string): Meter {
  return metrics.getMeter(name, version);
}

/**
 * Runs `fn` inside a new active span, a child of the current one. The span ends when `fn`
 * settles; a thrown error is recorded on the span, sets its status to ERROR and is rethrown.
 *
 * @example
 * const scores = await withSpan('worker.infer', { [SlipwayAttributes.BATCH_SIZE]: batch.length }, (span) =>
 *   session.run(batch),
 * );
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
  scope: string = defaultScope,
): Promise<T> {
  return tracer(scope).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      if (error instanceof Error) span.recordException(error);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * The trace id (32 hex characters) of the active span, for log lines; undefined outside a span
 * or when telemetry is not started.
 */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}
