import path from 'node:path';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { PROTO_ROOT, listProtoFiles } from '@slipway/contracts';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/** Full name of the standard health service. */
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

let descriptors: PackageDefinition | undefined;

// Parsing every proto takes a noticeable moment; do it once per process, on first start().
function loadDescriptors(): PackageDefinition {
  if (!descriptors) {
    // health.proto ships with grpc-health-check, not under proto/: include it from there.
    const healthRoot = path.resolve(path.dirname(healthProtoPath), '..', '..');
    descriptors = loadSync([...listProtoFiles(), path.relative(healthRoot, healthProtoPath)], {
      includeDirs: [PROTO_ROOT, healthRoot],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
  }
  return descriptors;
}

/**
 * Server reflection (v1 and v1alpha) over Slipway's protos, listing only `services`
 * (full names such as `slipway.registry.v1.ModelService`) plus the health service.
 */
export function createReflectionService(services: readonly string[]): ReflectionService {
  return new ReflectionService(loadDescriptors(), { services: [...services, HEALTH_SERVICE_NAME] });
}
