/**
 * Telemetry problems go to stderr as plain text: stdout carries the app's JSON logs, and a
 * telemetry misconfiguration must be visible without ever stopping the app.
 */
export function warn(message: string): void {
  process.stderr.write(`[@slipway/telemetry] warning: ${message}\n`);
}
