import { addressSchema as address, tokenListSchema } from '@slipway/service-kit';
import { z } from 'zod';

const seconds = (fallback: number) =>
  z.coerce.number().int('expected a whole number of seconds').min(1).max(3600).default(fallback);

/**
 * The registry's environment, parsed once at start by the service kit's `parseConfig` (which
 * treats blank values as unset). Keys are the variable names.
 */
export const registryConfigSchema = z
  .object({
    /** gRPC listen address. Default 127.0.0.1:7001. */
    SLIPWAY_REGISTRY_ADDR: address.default('127.0.0.1:7001'),
    /** Database and artifacts. Default `.slipway/registry` (relative to the working directory). */
    SLIPWAY_REGISTRY_DATA_DIR: z.string().trim().min(1).default('.slipway/registry'),
    /**
     * Accepted bearer tokens, `token=actor:role,...` (roles reader, deployer, admin). Mutations
     * need deployer or admin; without tokens every mutation is refused.
     */
    SLIPWAY_REGISTRY_TOKENS: tokenListSchema.optional(),
    /** Largest artifact accepted. Default 2 GiB. */
    SLIPWAY_REGISTRY_MAX_ARTIFACT_BYTES: z.coerce
      .number()
      .int()
      .min(1)
      .default(2 * 1024 ** 3),
    /** Health reports NOT_SERVING this long at shutdown before calls are refused. Default 0. */
    SLIPWAY_REGISTRY_DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(0),
    /** Prometheus endpoint; unset = no metrics endpoint. */
    SLIPWAY_REGISTRY_METRICS_ADDR: address.optional(),
    /** Shortest lease a worker heartbeat or a batch run claim can get. Default 2 s. */
    SLIPWAY_REGISTRY_LEASE_MIN_SECONDS: seconds(2),
    /** Longest lease a worker heartbeat or a batch run claim can get. Default 60 s. */
    SLIPWAY_REGISTRY_LEASE_MAX_SECONDS: seconds(60),
    /** Lease when a heartbeat or a batch run claim asks for none. Default 10 s. */
    SLIPWAY_REGISTRY_LEASE_DEFAULT_SECONDS: seconds(10),
    /** Changes kept so watchers can resume by revision. Default 10000. */
    SLIPWAY_REGISTRY_WATCH_RETENTION: z.coerce
      .number()
      .int('expected a whole number of changes')
      .min(1)
      .max(10_000_000)
      .default(10_000),
  })
  .refine(
    (c) =>
      c.SLIPWAY_REGISTRY_LEASE_MIN_SECONDS <= c.SLIPWAY_REGISTRY_LEASE_DEFAULT_SECONDS &&
      c.SLIPWAY_REGISTRY_LEASE_DEFAULT_SECONDS <= c.SLIPWAY_REGISTRY_LEASE_MAX_SECONDS,
    {
      message: 'lease bounds must satisfy LEASE_MIN_SECONDS <= LEASE_DEFAULT_SECONDS <= LEASE_MAX_SECONDS',
      path: ['SLIPWAY_REGISTRY_LEASE_DEFAULT_SECONDS'],
    },
  );

/** The parsed configuration. */
export type RegistryConfig = z.output<typeof registryConfigSchema>;
