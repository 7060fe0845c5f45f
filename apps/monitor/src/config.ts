import { addressSchema as address, tokenListSchema } from '@slipway/service-kit';
import { z } from 'zod';

/**
 * The monitor's environment, parsed once at start by the service kit's `parseConfig` (which
 * treats blank values as unset). Keys are the variable names.
 */
export const monitorConfigSchema = z.object({
  /** gRPC listen address. Default 127.0.0.1:7003; port 0 picks a free port. */
  SLIPWAY_MONITOR_ADDR: address.default('127.0.0.1:7003'),
  /** Where the database lives. Default `.slipway/monitor` (relative to the working directory). */
  SLIPWAY_MONITOR_DATA_DIR: z.string().trim().min(1).default('.slipway/monitor'),
  /**
   * Accepted bearer tokens, `token=actor:role,...` (roles reader, deployer, admin). Ingesting
   * needs deployer or admin; without tokens every ingestion is refused. Reads are open.
   */
  SLIPWAY_MONITOR_TOKENS: tokenListSchema.optional(),
  /** Prometheus endpoint; unset = no metrics endpoint. */
  SLIPWAY_MONITOR_METRICS_ADDR: address.optional(),
  /**
   * Prediction records older than this many days (by their prediction time) are deleted at start
   * and every hour. Default 7.
   */
  SLIPWAY_MONITOR_RETENTION_DAYS: z.coerce.number().int().min(1).default(7),
  /** Health reports NOT_SERVING this long at shutdown before calls are refused. Default 0. */
  SLIPWAY_MONITOR_DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(0),
});

/** The parsed configuration. */
export type MonitorConfig = z.output<typeof monitorConfigSchema>;
