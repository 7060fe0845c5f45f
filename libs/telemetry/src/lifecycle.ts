import { telemetryState } from './state.js';
import { warn } from './warn.js';

/**
 * Starts the OpenTelemetry SDK from the standard `OTEL_*` variables: grpc-js instrumentation, W3C
 * trace-context and baggage propagation, OTLP trace export when an endpoint is set, and a
 * Prometheus reader served by `startMetricsServer`. Idempotent; does nothing when
 * `OTEL_SDK_DISABLED=true`; never rejects (problems are written to stderr).
 *
 * Apps do not call this: `node --import @slipway/telemetry/register` does, after installing the ESM
 * hook without which `import`ed grpc-js is never instrumented. Started any later, modules that are
 * already loaded stay uninstrumented.
 *
 * @returns whether telemetry is running after the call.
 */
export async function startTelemetry(): Promise<boolean> {
  try {
    const { startSdk } = await import('./start-sdk.js');
    return startSdk();
  } catch (error) {
    warn(`telemetry did not start: ${error instanceof Error ? error.stack : String(error)}`);
    return false;
  }
}

/** True between a successful start and {@link shutdownTelemetry}. */
export function isTelemetryStarted(): boolean {
  const state = telemetryState();
  return !!state && state.shutdown === undefined;
}

/** Options of {@link shutdownTelemetry}. */
export interface ShutdownTelemetryOptions {
  /** Stop waiting for the flush after this long (an unreachable collector must not block exit). Default 5000. */
  readonly timeoutMs?: number;
}

/**
 * Flushes pending spans and metrics and stops the SDK. Idempotent (every call returns the same
 * promise); resolves at once when telemetry never started; never rejects. Call it last on SIGTERM.
 */
export function shutdownTelemetry(options: ShutdownTelemetryOptions = {}): Promise<void> {
  const state = telemetryState();
  if (!state) return Promise.resolve();
  state.shutdown ??= (async () => {
    const timeoutMs = options.timeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref();
    });
    try {
      const outcome = await Promise.race([state.sdk.shutdown().then(() => 'done' as const), deadline]);
      if (outcome === 'timeout')
        warn(`telemetry flush did not finish within ${timeoutMs} ms; unsent spans are lost`);
    } catch (error) {
      warn(`telemetry shutdown failed: ${String(error)}`);
    } finally {
      clearTimeout(timer);
    }
  })();
  return state.shutdown;
}
