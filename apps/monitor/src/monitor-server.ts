import path from 'node:path';
import { monitor } from '@slipway/contracts';
import { createServiceServer, type Logger, type ServiceServer } from '@slipway/service-kit';
import type { MonitorConfig } from './config.js';
import { openDatabase } from './db/open-database.js';
import { createMonitorMetrics } from './monitor-metrics.js';
import { startRetention, type Retention } from './retention.js';
import { createMonitorService, monitorPolicy } from './services/monitor-service.js';
import type { PredictionStore } from './store/prediction-store.js';
import { createSqlitePredictionStore } from './store/sqlite-prediction-store.js';

/** A monitor ready to start: its gRPC server, its store and its retention job. */
export interface MonitorServer {
  readonly server: ServiceServer;
  readonly store: PredictionStore;
  readonly retention: Retention;
}

/**
 * Opens the database (migrations applied), builds the prediction store and the gRPC service,
 * starts the retention job, and registers their shutdown: retention first (a sweep in progress
 * finishes), the database last.
 */
export function createMonitorServer(config: MonitorConfig, logger: Logger): MonitorServer {
  const database = openDatabase({ file: path.join(config.SLIPWAY_MONITOR_DATA_DIR, 'monitor.db') });
  const store = createSqlitePredictionStore(database);
  const server = createServiceServer({
    name: 'monitor',
    address: config.SLIPWAY_MONITOR_ADDR,
    logger,
    auth: { tokens: config.SLIPWAY_MONITOR_TOKENS ?? [] },
    drainDelayMs: config.SLIPWAY_MONITOR_DRAIN_DELAY_MS,
  });
  server.add(
    monitor.MonitorServiceService,
    createMonitorService({ store, metrics: createMonitorMetrics() }),
    monitorPolicy,
  );
  const retention = startRetention({
    store,
    retentionDays: config.SLIPWAY_MONITOR_RETENTION_DAYS,
    logger,
  });
  server.onShutdown(() => database.close(), 'database');
  server.onShutdown(() => retention.shutdown(), 'retention');
  return { server, store, retention };
}
