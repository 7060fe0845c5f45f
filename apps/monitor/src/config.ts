import { addressSchema as address, durationMsSchema, tokenListSchema } from '@slipway/service-kit';
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
  /**
   * Per-minute rollups (health), outcomes (labels, KPI events) and experiment assignments older
   * than this many days are deleted by the same sweeps. Default 90; never shorter than
   * SLIPWAY_MONITOR_RETENTION_DAYS (the larger of the two applies).
   */
  SLIPWAY_MONITOR_SUMMARY_RETENTION_DAYS: z.coerce.number().int().min(1).default(90),
  /**
   * The registry: deployments to analyse (canary steps, decision thresholds, shadow and stable
   * variants), reference profiles (GetDrift), and where rollout decisions are written. Unset: no
   * automated release analysis and no GetDrift; thresholds default to 0.5.
   */
  SLIPWAY_REGISTRY_ADDR: address.optional(),
  /** Bearer token with the deployer role for the registry (rollout decisions). */
  SLIPWAY_MONITOR_TOKEN: z.string().trim().min(1).optional(),
  /** How often deployments in canary are checked for a finished interval. Default 1s. */
  SLIPWAY_MONITOR_ANALYSIS_TICK_MS: durationMsSchema.default(1_000),
  /** Alert when a primary variant's error rate over the alert window is above this; 0: off. Default 0.05. */
  SLIPWAY_MONITOR_ALERT_ERROR_RATE: z.coerce.number().min(0).max(1).default(0.05),
  /** Alert when a primary variant's p99 latency over the alert window is above this (ms); 0: off (default). */
  SLIPWAY_MONITOR_ALERT_P99_MS: z.coerce.number().min(0).default(0),
  /** Alert on drift of the stable variant (needs the registry). Default true. */
  SLIPWAY_MONITOR_ALERT_DRIFT: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** The sliding window the alert rules look at. Default 5m. */
  SLIPWAY_MONITOR_ALERT_WINDOW_MS: durationMsSchema.default(300_000),
  /** How often the alert rules are evaluated. Default 30s. */
  SLIPWAY_MONITOR_ALERT_INTERVAL_MS: durationMsSchema.default(30_000),
  /** Health reports NOT_SERVING this long at shutdown before calls are refused. Default 0. */
  SLIPWAY_MONITOR_DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(0),
});

/** The parsed configuration. */
export type MonitorConfig = z.output<typeof monitorConfigSchema>;
