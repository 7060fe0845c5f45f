import path from 'node:path';
import { monitor, registry } from '@slipway/contracts';
import { createClient, createServiceServer, type Logger, type ServiceServer } from '@slipway/service-kit';
import type { MonitorConfig } from './config.js';
import { openDatabase } from './db/open-database.js';
import { createMonitorMetrics } from './monitor-metrics.js';
import { startRetention, type Retention } from './retention.js';
import { createAlerts } from './alerts/alerts.js';
import { startCanaryController } from './rollout/canary-controller.js';
import { createMonitorService, monitorPolicy } from './services/monitor-service.js';
import { createRegistryLookup } from './services/registry-lookup.js';
import type { MonitorStore } from './store/monitor-store.js';
import { createSqlitePredictionStore } from './store/sqlite-prediction-store.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** A monitor ready to start: its gRPC server, its store and its retention job. */
export interface MonitorServer {
  readonly server: ServiceServer;
  readonly store: MonitorStore;
  readonly retention: Retention;
}

/**
 * Opens the database (migrations applied), builds the store and the gRPC service (with the
 * registry lookups when a registry is configured), starts the retention job and the canary
 * analysis, and registers their shutdown: the canary analysis and retention first (work in
 * progress finishes), the database last.
 */
export function createMonitorServer(config: MonitorConfig, logger: Logger): MonitorServer {
  const database = openDatabase({ file: path.join(config.SLIPWAY_MONITOR_DATA_DIR, 'monitor.db') });
  const summaryDays = Math.max(
    config.SLIPWAY_MONITOR_SUMMARY_RETENTION_DAYS,
    config.SLIPWAY_MONITOR_RETENTION_DAYS,
  );
  const store = createSqlitePredictionStore(database, {
    summaryExtraRetentionMs: (summaryDays - config.SLIPWAY_MONITOR_RETENTION_DAYS) * DAY_MS,
  });
  const lookup = config.SLIPWAY_REGISTRY_ADDR
    ? createRegistryLookup({ address: config.SLIPWAY_REGISTRY_ADDR, token: config.SLIPWAY_MONITOR_TOKEN })
    : undefined;
  // The latency gauges cover the current minute and the four before it: whole minutes, so they
  // are read from the rollups alone.
  const recentTraffic = () => {
    const minute = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
    return store.traffic({ fromMs: minute - 4 * MINUTE_MS, toMs: minute + MINUTE_MS });
  };
  const server = createServiceServer({
    name: 'monitor',
    address: config.SLIPWAY_MONITOR_ADDR,
    logger,
    auth: { tokens: config.SLIPWAY_MONITOR_TOKENS ?? [] },
    drainDelayMs: config.SLIPWAY_MONITOR_DRAIN_DELAY_MS,
  });
  server.add(
    monitor.MonitorServiceService,
    createMonitorService({ store, metrics: createMonitorMetrics({ recentTraffic }), registry: lookup }),
    monitorPolicy,
  );
  const retention = startRetention({
    store,
    retentionDays: config.SLIPWAY_MONITOR_RETENTION_DAYS,
    logger,
  });
  const canary = config.SLIPWAY_REGISTRY_ADDR
    ? startCanaryController({
        registryAddress: config.SLIPWAY_REGISTRY_ADDR,
        token: config.SLIPWAY_MONITOR_TOKEN,
        store,
        tickMs: config.SLIPWAY_MONITOR_ANALYSIS_TICK_MS,
        logger,
      })
    : undefined;
  if (!canary) logger.info('no SLIPWAY_REGISTRY_ADDR: automated canary analysis is off');
  const audit = config.SLIPWAY_REGISTRY_ADDR
    ? createClient(registry.AuditServiceService, config.SLIPWAY_REGISTRY_ADDR, {
        token: config.SLIPWAY_MONITOR_TOKEN,
      })
    : undefined;
  const alerts = createAlerts({
    store,
    lookup,
    audit,
    logger,
    rules: {
      errorRate: config.SLIPWAY_MONITOR_ALERT_ERROR_RATE,
      p99Ms: config.SLIPWAY_MONITOR_ALERT_P99_MS,
      drift: config.SLIPWAY_MONITOR_ALERT_DRIFT,
      windowSeconds: Math.max(1, Math.round(config.SLIPWAY_MONITOR_ALERT_WINDOW_MS / 1000)),
      minRequests: 50,
    },
  });
  let evaluating: Promise<unknown> | undefined;
  const alertTimer = setInterval(() => {
    evaluating ??= alerts
      .evaluate(Date.now())
      .catch((err: unknown) => logger.error({ err }, 'alert evaluation failed'))
      .finally(() => (evaluating = undefined));
  }, config.SLIPWAY_MONITOR_ALERT_INTERVAL_MS);
  alertTimer.unref();
  server.onShutdown(() => database.close(), 'database');
  server.onShutdown(() => audit?.close(), 'audit client');
  if (lookup) server.onShutdown(() => lookup.close(), 'registry lookups');
  server.onShutdown(() => retention.shutdown(), 'retention');
  // Runs before the database closes: an analysis in progress still reads it.
  if (canary) server.onShutdown(() => canary.close(), 'canary analysis');
  server.onShutdown(async () => {
    clearInterval(alertTimer);
    await evaluating;
  }, 'alerts');
  return { server, store, retention };
}
