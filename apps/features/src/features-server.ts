import path from 'node:path';
import { features } from '@slipway/contracts';
import { createServiceServer, type Logger, type ServiceServer } from '@slipway/service-kit';
import type { FeaturesConfig } from './config.js';
import { openDatabase } from './db/open-database.js';
import { createCatalog } from './domain/catalog.js';
import { createFeatureDomain, type FeatureDomain } from './domain/feature-domain.js';
import { createFeatureService, featurePolicy } from './services/feature-service.js';
import { createSqliteOnlineStore } from './store/sqlite-online-store.js';

/** A feature service ready to start: its gRPC server and its domain. */
export interface FeaturesServer {
  readonly server: ServiceServer;
  readonly domain: FeatureDomain;
}

/**
 * Opens the database (migrations applied), builds the catalog, the SQLite online store, the
 * domain and the gRPC service, and registers their shutdown (store, then database, last).
 */
export function createFeaturesServer(config: FeaturesConfig, logger: Logger): FeaturesServer {
  const database = openDatabase({ file: path.join(config.SLIPWAY_FEATURES_DATA_DIR, 'features.db') });
  const store = createSqliteOnlineStore(database);
  const domain = createFeatureDomain({ catalog: createCatalog(database), store });
  const server = createServiceServer({
    name: 'features',
    address: config.SLIPWAY_FEATURES_ADDR,
    logger,
    auth: { tokens: config.SLIPWAY_FEATURES_TOKENS ?? [] },
    drainDelayMs: config.SLIPWAY_FEATURES_DRAIN_DELAY_MS,
  });
  server.add(features.FeatureServiceService, createFeatureService(domain), featurePolicy);
  server.onShutdown(() => database.close(), 'database');
  server.onShutdown(() => store.close(), 'online store');
  return { server, domain };
}
