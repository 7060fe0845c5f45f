import path from 'node:path';
import { features, inference, serving } from '@slipway/contracts';
import { createRecordSink, type RecordSink } from '@slipway/monitor-client';
import {
  createClient,
  createServiceServer,
  type BoundAddress,
  type Logger,
  type ServiceServer,
} from '@slipway/service-kit';
import type { RouterConfig } from './config.js';
import { createDispatcher, type Dispatcher } from './dispatcher.js';
import { createRouterMetrics } from './router-metrics.js';
import { createRouting, type Routing } from './routing.js';
import { createFrontDoor, createPredictionService } from './services.js';

/** The traffic router: the platform's front door. */
export interface Router {
  readonly server: ServiceServer;
  readonly routing: Routing;
  readonly records: RecordSink;
  readonly dispatcher: Dispatcher;
  /** Binds the server and starts following the registry. */
  start(): Promise<BoundAddress>;
  /** Stops taking calls, lets in-flight ones finish, flushes or spools records, deregisters. */
  shutdown(reason?: string): Promise<void>;
}

const VERSION = '0.1.0';

/** Builds a router from its configuration; nothing is bound or watched until `start()`. */
export function createRouter(config: RouterConfig, logger: Logger): Router {
  let bound: BoundAddress | undefined;
  const routing = createRouting({
    registryAddress: config.SLIPWAY_REGISTRY_ADDR,
    token: config.SLIPWAY_ROUTER_TOKEN,
    routerId: config.SLIPWAY_ROUTER_ID,
    advertiseAddress: () => config.SLIPWAY_ROUTER_ADVERTISE_ADDR ?? bound?.address,
    heartbeatMs: config.SLIPWAY_ROUTER_HEARTBEAT_MS,
    ejectMs: config.SLIPWAY_ROUTER_EJECT_MS,
    maxMessageBytes: config.SLIPWAY_ROUTER_MAX_MESSAGE_BYTES,
    logger,
  });
  const featuresClient = createClient(features.FeatureServiceService, config.SLIPWAY_FEATURES_ADDR, {
    defaultDeadlineMs: config.SLIPWAY_ROUTER_DEFAULT_DEADLINE_MS,
  });
  const records = createRecordSink({
    address: config.SLIPWAY_MONITOR_ADDR,
    token: config.SLIPWAY_ROUTER_TOKEN,
    spoolDir: path.join(config.SLIPWAY_ROUTER_DATA_DIR, 'spool'),
    maxSpoolBytes: config.SLIPWAY_ROUTER_SPOOL_BYTES,
    logger,
  });
  const metrics = createRouterMetrics();
  metrics.observeRecords(() => records.stats());
  const dispatcher = createDispatcher({
    routing,
    features: featuresClient,
    records,
    metrics,
    shadowConcurrency: config.SLIPWAY_ROUTER_SHADOW_CONCURRENCY,
    maxBatchRows: config.SLIPWAY_ROUTER_MAX_BATCH_ROWS,
    coalesceInFlight: config.SLIPWAY_ROUTER_COALESCE_IN_FLIGHT,
    logger,
  });
  const server = createServiceServer({
    name: 'router',
    address: config.SLIPWAY_ROUTER_ADDR,
    logger,
    maxMessageBytes: config.SLIPWAY_ROUTER_MAX_MESSAGE_BYTES,
    drainDelayMs: config.SLIPWAY_ROUTER_DRAIN_DELAY_MS,
  });
  server.add(serving.PredictionServiceService, createPredictionService(dispatcher));
  server.add(inference.GRPCInferenceServiceService, createFrontDoor(routing, dispatcher, VERSION));
  // Runs once no call is in flight any more.
  server.onShutdown(async () => {
    await routing.close();
    featuresClient.close();
    await records.close();
  }, 'routing and records');

  return {
    server,
    routing,
    records,
    dispatcher,
    async start() {
      bound = await server.start();
      logger.info(
        {
          registry: config.SLIPWAY_REGISTRY_ADDR,
          features: config.SLIPWAY_FEATURES_ADDR,
          monitor: config.SLIPWAY_MONITOR_ADDR ?? 'none (records dropped)',
          routerId: config.SLIPWAY_ROUTER_ID,
        },
        'routing',
      );
      return bound;
    },
    shutdown: (reason = 'requested') => server.shutdown(reason),
  };
}
