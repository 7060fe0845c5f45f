import { addressSchema, durationMsSchema, tokenListSchema } from '@slipway/service-kit';
import { z } from 'zod';

/** Configuration of the test-only echo service (`SLIPWAY_ECHO_*`). */
export const echoConfigSchema = z.object({
  /** Where to listen. Default: a free loopback port (the harness reads it from the log). */
  SLIPWAY_ECHO_ADDR: addressSchema.default('127.0.0.1:0'),
  /** `token=actor:role,...` accepted for Mutate (deployer) and Purge (admin). */
  SLIPWAY_ECHO_TOKENS: tokenListSchema.optional(),
  /** Health reports NOT_SERVING this long at shutdown before calls are refused. */
  SLIPWAY_ECHO_DRAIN_DELAY_MS: durationMsSchema.default(0),
  /** In-flight calls get this long to finish at shutdown. */
  SLIPWAY_ECHO_SHUTDOWN_TIMEOUT_MS: durationMsSchema.default(10_000),
  /** Prometheus /metrics address; unset means no metrics endpoint. */
  SLIPWAY_ECHO_METRICS_ADDR: addressSchema.optional(),
});

export type EchoConfig = z.output<typeof echoConfigSchema>;
