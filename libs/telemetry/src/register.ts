/**
 * Entry point for `node --import @slipway/telemetry/register dist/main.js`: starts the SDK (and,
 * when the grpc instrumentation is enabled, its ESM hook) before any app module is loaded. Importing it more
 * than once is harmless; a telemetry problem is written to stderr and never stops the app.
 */
import { register } from 'node:module';
import { grpcInstrumentationEnabled, isSdkDisabled } from './export-config.js';
import { startTelemetry } from './lifecycle.js';

const hookKey = Symbol.for('@slipway/telemetry/esm-hook');
const globalWithHook = globalThis as typeof globalThis & { [hookKey]?: true };

// The hook is only needed by @opentelemetry/instrumentation-grpc (opt-in, see
// grpcInstrumentationEnabled); Slipway's own gRPC tracing lives in the service kit.
if (!isSdkDisabled() && grpcInstrumentationEnabled() && !globalWithHook[hookKey]) {
  globalWithHook[hookKey] = true;
  try {
    // Without this hook `import ... from '@grpc/grpc-js'` is never patched: no spans, and no error.
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  } catch (error) {
    process.stderr.write(
      `[@slipway/telemetry] warning: ESM hook not installed, grpc calls are not traced: ${String(error)}\n`,
    );
  }
}

// The SDK is imported only now (startTelemetry loads it lazily), so it passes through the hook too.
await startTelemetry();
