// The registry: Slipway's source of truth (models, versions, artifacts, deployments, workers)
// and its hash-chained audit trail.
import { createLogger, installSignalHandlers, loadConfigOrExit } from '@slipway/service-kit';
import { shutdownTelemetry, startMetricsServer } from '@slipway/telemetry';
import { registryConfigSchema } from './config.js';
import { createRegistryServer } from './registry-server.js';

const config = loadConfigOrExit(registryConfigSchema, 'registry');
const logger = createLogger('registry');
const { server } = createRegistryServer(config, logger);
server.onShutdown(() => shutdownTelemetry(), 'telemetry');
if (config.SLIPWAY_REGISTRY_METRICS_ADDR) {
  const metrics = await startMetricsServer(config.SLIPWAY_REGISTRY_METRICS_ADDR);
  logger.info({ address: metrics.address }, 'metrics endpoint');
  server.onShutdown(() => metrics.close(), 'metrics');
}
installSignalHandlers(server, logger);
await server.start();
