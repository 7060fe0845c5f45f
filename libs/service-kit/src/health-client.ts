import type { Metadata } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { createClient } from './client.js';
import { NotFoundError } from './errors.js';

/** What `grpc.health.v1.Health/Check` reports; `SERVICE_UNKNOWN` when the server has no such service. */
export type HealthStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** Options of {@link checkHealth}. */
export interface CheckHealthOptions {
  /** Default 2000 ms. */
  deadlineMs?: number;
  metadata?: Metadata;
}

interface HealthCheckRequest {
  service: string;
}
interface HealthCheckResponse {
  status: HealthStatus;
}

// grpc-health-check ships a proto-loader definition with untyped codecs; this restates Check's types.
const checkDefinition = {
  check: healthService['Check'] as unknown as {
    readonly path: '/grpc.health.v1.Health/Check';
    readonly requestStream: false;
    readonly responseStream: false;
    readonly requestSerialize: (value: HealthCheckRequest) => Buffer;
    readonly requestDeserialize: (value: Buffer) => HealthCheckRequest;
    readonly responseSerialize: (value: HealthCheckResponse) => Buffer;
    readonly responseDeserialize: (value: Buffer) => HealthCheckResponse;
  },
};

/**
 * Asks the server at `address` for the health of `service` (`''` = the server as a whole).
 * One attempt, no retries: pollers decide themselves how often to ask.
 *
 * @throws UnavailableError when nothing answers, DeadlineExceededError when it answers too late.
 */
export async function checkHealth(
  address: string,
  service = '',
  options: CheckHealthOptions = {},
): Promise<HealthStatus> {
  const client = createClient(checkDefinition, address, {
    defaultDeadlineMs: options.deadlineMs ?? 2_000,
    retry: { maxAttempts: 1 },
  });
  try {
    const response = await client.check({ service }, { metadata: options.metadata });
    return response.status;
  } catch (err) {
    if (err instanceof NotFoundError) return 'SERVICE_UNKNOWN';
    throw err;
  } finally {
    client.close();
  }
}
