import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { NodeSDK } from '@opentelemetry/sdk-node';

/** What a started SDK leaves behind for the rest of the package. */
export interface TelemetryState {
  readonly sdk: NodeSDK;
  readonly prometheus: PrometheusExporter;
  shutdown?: Promise<void>;
}

// State lives on globalThis so that two copies of this package (src and dist, or two installed
// versions) share one SDK: starting twice would double-patch grpc-js and emit every span twice.
const stateKey = Symbol.for('@slipway/telemetry/state');
type GlobalWithState = typeof globalThis & { [stateKey]?: TelemetryState | null };
const globalWithState = globalThis as GlobalWithState;

/** The running SDK's state; null after a start that was disabled or failed; undefined before any start. */
export function telemetryState(): TelemetryState | null | undefined {
  return globalWithState[stateKey];
}

export function setTelemetryState(state: TelemetryState | null): void {
  globalWithState[stateKey] = state;
}
