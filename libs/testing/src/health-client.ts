import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

/** `grpc.health.v1.HealthCheckResponse.ServingStatus` as a name. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** A minimal `grpc.health.v1.Health` client. */
export interface HealthClient {
  /** Calls `Health/Check` for `service` ('' = the whole server) with a deadline. */
  check(service?: string, timeoutMs?: number): Promise<ServingStatus>;
  close(): void;
}

type HealthStub = grpc.Client & {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { status: ServingStatus }) => void,
  ): grpc.ClientUnaryCall;
};

let healthConstructor: grpc.ServiceClientConstructor | undefined;

function loadHealthService(): grpc.ServiceClientConstructor {
  healthConstructor ??= (
    grpc.loadPackageDefinition(
      protoLoader.loadSync(protoPath, { enums: String, defaults: true }),
    ) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    }
  ).grpc.health.v1.Health;
  return healthConstructor;
}

/**
 * Connects (insecure) to `address` (`host:port`; a wildcard host such as 0.0.0.0 is reached on
 * loopback).
 */
export function createHealthClient(address: string): HealthClient {
  const target = address.replace(/^(0\.0\.0\.0|\[::\]|::):/, '127.0.0.1:');
  const Health = loadHealthService();
  const stub = new Health(target, grpc.credentials.createInsecure()) as unknown as HealthStub;
  return {
    check(service = '', timeoutMs = 2000) {
      return new Promise((resolve, reject) => {
        stub.Check({ service }, { deadline: Date.now() + timeoutMs }, (error, response) =>
          error ? reject(error) : resolve(response?.status ?? 'UNKNOWN'),
        );
      });
    },
    close() {
      stub.close();
    },
  };
}
