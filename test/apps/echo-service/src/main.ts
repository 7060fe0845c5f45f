// A test-only service built from the service kit, run as a process by end-to-end tests (drain on
// SIGTERM, traces across processes) and by the benchmarks. Never part of a deployment.
import { testing } from '@slipway/contracts';
import {
  createLogger,
  createServiceServer,
  installSignalHandlers,
  loadConfigOrExit,
} from '@slipway/service-kit';
import { shutdownTelemetry, startMetricsServer } from '@slipway/telemetry';
import { echoConfigSchema } from './config.js';
import { createEchoService, echoPolicy } from './echo-service.js';

const config = loadConfigOrExit(echoConfigSchema, 'echo');
const logger = createLogger('echo');
const server = createServiceServer({
  name: 'echo',
  address: config.SLIPWAY_ECHO_ADDR,
  logger,
  auth: { tokens: config.SLIPWAY_ECHO_TOKENS ?? [] },
  drainDelayMs: config.SLIPWAY_ECHO_DRAIN_DELAY_MS,
  shutdownTimeoutMs: config.SLIPWAY_ECHO_SHUTDOWN_TIMEOUT_MS,
});
server.add(testing.EchoServiceService, createEchoService(), echoPolicy);
server.onShutdown(() => shutdownTelemetry(), 'telemetry');
if (config.SLIPWAY_ECHO_METRICS_ADDR) {
  const metrics = await startMetricsServer(config.SLIPWAY_ECHO_METRICS_ADDR);
  logger.info({ address: metrics.address }, 'metrics endpoint');
  server.onShutdown(() => metrics.close(), 'metrics');
}
installSignalHandlers(server, logger);
await server.start();
