import { fileURLToPath } from 'node:url';

/**
 * Built entry points of the processes `slipway` starts. Resolved through the workspace packages'
 * `./main` exports (a path to run, not code imported into the CLI).
 */
export function entryOf(
  pkg:
    | '@slipway/registry'
    | '@slipway/worker'
    | '@slipway/train'
    | '@slipway/feature-service'
    | '@slipway/monitor'
    | '@slipway/router',
): string {
  return fileURLToPath(import.meta.resolve(`${pkg}/main`));
}

/** `--import` target that starts OpenTelemetry before the app loads grpc-js. */
export function telemetryImport(): string {
  return import.meta.resolve('@slipway/telemetry/register');
}
