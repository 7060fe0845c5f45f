export * from './conformance.js';
export {
  runningApps,
  startApp,
  telemetryRegisterUrl,
  useAppHarness,
  type ExitInfo,
  type LogLine,
  type RunningApp,
  type StartAppOptions,
  type StopResult,
} from './app.js';
export { ensureBuilt, repoRoot } from './build.js';
export { freePort } from './free-port.js';
export { createHealthClient, type HealthClient, type ServingStatus } from './health-client.js';
export {
  startOtlpReceiver,
  type OtlpAttributeValue,
  type OtlpReceiver,
  type OtlpSpan,
  type OtlpTransport,
} from './otlp-receiver.js';
export { createTempDir, tempDirFixture, type TempDir } from './temp-dir.js';
export * from './inference-protocol.js';
export {
  buildPlatform,
  demoTransaction,
  PLATFORM_PROJECTS,
  PLATFORM_TOKEN,
  startPlatform,
  type Platform,
  type PlatformOptions,
} from './platform.js';
export { natsServerBinary, skipWithoutNats, startNatsServer, type NatsServer } from './nats-server.js';
