// The monitor: durable prediction records in, filtered reads out (health, drift and canary
// analysis build on them).
import { createLogger, installSignalHandlers, loadConfigOrExit } from '@slipway/service-kit';
import { shutdownTelemetry, startMetricsServer } from '@slipway/telemetry';
import { monitorConfigSchema } from './config.js';
import { createMonitorServer } from './monitor-server.js';

const config = loadConfigOrExit(monitorConfigSchema, 'monitor');
const logger = createLogger('monitor');
const { server } = createMonitorServer(config, logger);
server.onShutdown(() => shutdownTelemetry(), 'telemetry');
if (config.SLIPWAY_MONITOR_METRICS_ADDR) {
  const metrics = await startMetricsServer(config.SLIPWAY_MONITOR_METRICS_ADDR);
  logger.info({ address: metrics.address }, 'metrics endpoint');
  server.onShutdown(() => metrics.close(), 'metrics');
}
installSignalHandlers(server, logger);
await server.start();
