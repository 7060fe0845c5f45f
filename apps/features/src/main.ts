// The feature service: fitted feature sets, the online store and point-in-time training rows.
import { createLogger, installSignalHandlers, loadConfigOrExit } from '@slipway/service-kit';
import { shutdownTelemetry, startMetricsServer } from '@slipway/telemetry';
import { featuresConfigSchema } from './config.js';
import { createFeaturesServer } from './features-server.js';

const config = loadConfigOrExit(featuresConfigSchema, 'features');
const logger = createLogger('features');
const { server } = createFeaturesServer(config, logger);
server.onShutdown(() => shutdownTelemetry(), 'telemetry');
if (config.SLIPWAY_FEATURES_METRICS_ADDR) {
  const metrics = await startMetricsServer(config.SLIPWAY_FEATURES_METRICS_ADDR);
  logger.info({ address: metrics.address }, 'metrics endpoint');
  server.onShutdown(() => metrics.close(), 'metrics');
}
installSignalHandlers(server, logger);
await server.start();
