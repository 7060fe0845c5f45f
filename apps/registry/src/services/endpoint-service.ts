import { type registry } from '@slipway/contracts';
import type { ServiceImplementation, ServicePolicy } from '@slipway/service-kit';
import type { RegistryDomain } from '../domain/index.js';
import { auditContext } from './model-service.js';

type Definition = typeof registry.EndpointServiceService;

/** Workers heartbeat with a deployer token; listing is open. */
export const endpointPolicy: ServicePolicy<Definition> = { heartbeat: 'deployer', deregister: 'deployer' };

/** `slipway.registry.v1.EndpointService` over the registry domain. */
export function createEndpointService(domain: RegistryDomain): ServiceImplementation<Definition> {
  return {
    async heartbeat(req, ctx) {
      const { leaseExpiresAt, revision } = domain.endpoints.heartbeat({
        workerId: req.workerId,
        address: req.address,
        versions: req.versions,
        labels: req.labels,
        ttlSeconds: req.ttlSeconds || undefined,
        ...auditContext(ctx),
      });
      return { leaseExpiresAt, revision };
    },
    async deregister(req, ctx) {
      domain.endpoints.deregister(req.workerId, auditContext(ctx, 'worker deregistered'));
      return {};
    },
    async listEndpoints() {
      return domain.endpoints.list();
    },
  };
}
