// The traffic router: the platform's front door. Chooses a variant per request by the
// deployment's release strategy, builds the feature vector, calls a worker replica, and records
// every prediction for the monitor.
import { createLogger, installSignalHandlers, loadConfigOrExit } from '@slipway/service-kit';
import { shutdownTelemetry, startMetricsServer } from '@slipway/telemetry';
import { routerConfigSchema } from './config.js';
import { createRouter } from './router.js';

const config = loadConfigOrExit(routerConfigSchema, 'router');
const logger = createLogger('router');
const router = createRouter(config, logger);
router.server.onShutdown(() => shutdownTelemetry(), 'telemetry');
if (config.SLIPWAY_ROUTER_METRICS_ADDR) {
  const metrics = await startMetricsServer(config.SLIPWAY_ROUTER_METRICS_ADDR);
  logger.info({ address: metrics.address }, 'metrics endpoint');
  router.server.onShutdown(() => metrics.close(), 'metrics');
}
installSignalHandlers(router.server, logger);
await router.start();
