import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { registry } from '@slipway/contracts';
import { createServiceServer, type Logger, type ServiceServer } from '@slipway/service-kit';
import type { RegistryConfig } from './config.js';
import { openDatabase } from './db/open-database.js';
import { createRegistryDomain, type RegistryDomain } from './domain/index.js';
import { auditPolicy, createAuditService } from './services/audit-service.js';
import { batchPolicy, createBatchService } from './services/batch-service.js';
import { createDeploymentService, deploymentPolicy } from './services/deployment-service.js';
import { createEndpointService, endpointPolicy } from './services/endpoint-service.js';
import { createModelService, modelPolicy } from './services/model-service.js';
import { createWatchService } from './services/watch-service.js';

/** How often leases are expired and the change log compacted. */
const MAINTENANCE_INTERVAL_MS = 1_000;

/** A registry ready to start: its gRPC server and its domain. */
export interface RegistryServer {
  readonly server: ServiceServer;
  readonly domain: RegistryDomain;
}

/**
 * Opens the database (migrations applied), builds the domain and the gRPC services, and registers
 * their shutdown: stop the maintenance timer, end watches, close the database.
 */
export function createRegistryServer(config: RegistryConfig, logger: Logger): RegistryServer {
  const dataDir = config.SLIPWAY_REGISTRY_DATA_DIR;
  mkdirSync(dataDir, { recursive: true });
  const database = openDatabase({ file: path.join(dataDir, 'registry.db') });
  const domain = createRegistryDomain({
    dataDir,
    db: database,
    watchRetention: config.SLIPWAY_REGISTRY_WATCH_RETENTION,
    lease: {
      minSeconds: config.SLIPWAY_REGISTRY_LEASE_MIN_SECONDS,
      maxSeconds: config.SLIPWAY_REGISTRY_LEASE_MAX_SECONDS,
      defaultSeconds: config.SLIPWAY_REGISTRY_LEASE_DEFAULT_SECONDS,
    },
  });
  const server = createServiceServer({
    name: 'registry',
    address: config.SLIPWAY_REGISTRY_ADDR,
    logger,
    auth: { tokens: config.SLIPWAY_REGISTRY_TOKENS ?? [] },
    drainDelayMs: config.SLIPWAY_REGISTRY_DRAIN_DELAY_MS,
  });
  server
    .add(
      registry.ModelServiceService,
      createModelService(domain, { maxArtifactBytes: config.SLIPWAY_REGISTRY_MAX_ARTIFACT_BYTES }),
      modelPolicy,
    )
    .add(registry.DeploymentServiceService, createDeploymentService(domain), deploymentPolicy)
    .add(registry.EndpointServiceService, createEndpointService(domain), endpointPolicy)
    .add(registry.WatchServiceService, createWatchService(domain))
    .add(registry.AuditServiceService, createAuditService(domain), auditPolicy)
    .add(registry.BatchServiceService, createBatchService(domain), batchPolicy);

  const timer = setInterval(() => {
    try {
      const { expired } = domain.maintain();
      if (expired.length > 0) logger.info({ workers: expired }, 'worker leases expired');
    } catch (err) {
      logger.error({ err }, 'registry maintenance failed');
    }
  }, MAINTENANCE_INTERVAL_MS);
  timer.unref();

  // Watches are open-ended: end them as soon as shutdown stops accepting calls (watchers resume
  // from their revision elsewhere or after the restart), then close the database last.
  server.onDrain(() => domain.shutdown(), 'watches');
  server.onShutdown(() => database.close(), 'database');
  server.onShutdown(() => clearInterval(timer), 'maintenance');
  return { server, domain };
}
