import { addressSchema as address, tokenListSchema } from '@slipway/service-kit';
import { z } from 'zod';

/**
 * The feature service's environment, parsed once at start by the service kit's `parseConfig`
 * (which treats blank values as unset). Keys are the variable names.
 */
export const featuresConfigSchema = z.object({
  /** gRPC listen address. Default 127.0.0.1:7002. */
  SLIPWAY_FEATURES_ADDR: address.default('127.0.0.1:7002'),
  /** Where the database lives. Default `.slipway/features` (relative to the working directory). */
  SLIPWAY_FEATURES_DATA_DIR: z.string().trim().min(1).default('.slipway/features'),
  /**
   * Accepted bearer tokens, `token=actor:role,...` (roles reader, deployer, admin). Registering
   * and writing need deployer or admin; without tokens every mutation is refused. Reads are open.
   */
  SLIPWAY_FEATURES_TOKENS: tokenListSchema.optional(),
  /** Prometheus endpoint; unset = no metrics endpoint. */
  SLIPWAY_FEATURES_METRICS_ADDR: address.optional(),
  /** Health reports NOT_SERVING this long at shutdown before calls are refused. Default 0. */
  SLIPWAY_FEATURES_DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(0),
});

/** The parsed configuration. */
export type FeaturesConfig = z.output<typeof featuresConfigSchema>;
