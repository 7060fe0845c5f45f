import { hostname } from 'node:os';
import { addressSchema as address, durationMsSchema } from '@slipway/service-kit';
import { z } from 'zod';

/**
 * The router's environment, parsed once at start by the service kit's `parseConfig` (blank
 * values count as unset). Keys are the variable names.
 */
export const routerConfigSchema = z.object({
  /** gRPC listen address (Open Inference Protocol and PredictionService). Default 127.0.0.1:8001. */
  SLIPWAY_ROUTER_ADDR: address.default('127.0.0.1:8001'),
  /** Address the router advertises to the registry; default: the bound address. */
  SLIPWAY_ROUTER_ADVERTISE_ADDR: address.optional(),
  /** This replica's id in the registry's endpoint list. Default router-<host>-<pid>. */
  SLIPWAY_ROUTER_ID: z
    .string()
    .trim()
    .min(1)
    .default(() => `router-${hostname()}-${process.pid}`),
  /** Registry to watch for deployments and worker endpoints. Default 127.0.0.1:7001. */
  SLIPWAY_REGISTRY_ADDR: address.default('127.0.0.1:7001'),
  /** Feature service that builds Predict's vectors. Default 127.0.0.1:7002. */
  SLIPWAY_FEATURES_ADDR: address.default('127.0.0.1:7002'),
  /** Monitor that receives prediction records; unset: records are counted and dropped. */
  SLIPWAY_MONITOR_ADDR: address.optional(),
  /**
   * Bearer token with the deployer role, sent to the registry (heartbeats) and the monitor
   * (record ingestion).
   */
  SLIPWAY_ROUTER_TOKEN: z.string().trim().min(1).optional(),
  /** Where prediction records are spooled while the monitor is unreachable. Default .slipway/router. */
  SLIPWAY_ROUTER_DATA_DIR: z.string().trim().min(1).default('.slipway/router'),
  /** Bound of the record spool on disk. Default 64 MiB. */
  SLIPWAY_ROUTER_SPOOL_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(64 * 1024 * 1024),
  /** Shadow calls in flight at most; a request sampled beyond it is not mirrored (counted). */
  SLIPWAY_ROUTER_SHADOW_CONCURRENCY: z.coerce.number().int().min(1).default(64),
  /** Rows per ModelInfer call at most: PredictBatch splits larger groups (the workers' default limit is 64). */
  SLIPWAY_ROUTER_MAX_BATCH_ROWS: z.coerce.number().int().min(1).default(64),
  /**
   * Predict calls to the feature service and a worker in flight per model version; concurrent
   * requests beyond it are coalesced into the next batch call. Default 2.
   */
  SLIPWAY_ROUTER_COALESCE_IN_FLIGHT: z.coerce.number().int().min(1).default(2),
  /** How often the router reports itself to the registry. Default 2s. */
  SLIPWAY_ROUTER_HEARTBEAT_MS: durationMsSchema.default(2_000),
  /** How long a replica that failed with UNAVAILABLE is skipped. Default 2s. */
  SLIPWAY_ROUTER_EJECT_MS: durationMsSchema.default(2_000),
  /** Deadline of a call that names none. Default 10s. */
  SLIPWAY_ROUTER_DEFAULT_DEADLINE_MS: durationMsSchema.default(10_000),
  /** Largest request or response message. Default 64 MiB. */
  SLIPWAY_ROUTER_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(64 * 1024 * 1024),
  /** Prometheus endpoint; unset = no metrics endpoint. */
  SLIPWAY_ROUTER_METRICS_ADDR: address.optional(),
  /** Health reports NOT_SERVING this long at shutdown before calls are refused. Default 0. */
  SLIPWAY_ROUTER_DRAIN_DELAY_MS: durationMsSchema.default(0),
});

/** The parsed configuration. */
export type RouterConfig = z.output<typeof routerConfigSchema>;
