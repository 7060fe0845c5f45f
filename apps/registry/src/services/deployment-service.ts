import { type registry } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import type { ServiceImplementation, ServicePolicy } from '@slipway/service-kit';
import type { RegistryDomain } from '../domain/index.js';
import { auditContext } from './model-service.js';

type Definition = typeof registry.DeploymentServiceService;

/** Reads are open; changing desired state needs the deployer role. */
export const deploymentPolicy: ServicePolicy<Definition> = {
  applyDeployment: 'deployer',
  deleteDeployment: 'deployer',
};

/** `slipway.registry.v1.DeploymentService` over the registry domain. */
export function createDeploymentService(domain: RegistryDomain): ServiceImplementation<Definition> {
  return {
    async applyDeployment(req, ctx) {
      if (!req.deployment)
        throw new InvalidArgumentError('ApplyDeployment needs a deployment (the desired state)');
      return domain.deployments.applyDeployment({
        deployment: req.deployment,
        expectedRevision: req.expectedRevision,
        ...auditContext(ctx, req.reason),
      });
    },
    async getDeployment(req) {
      return { deployment: domain.deployments.getDeployment(req.name) };
    },
    async listDeployments() {
      return domain.deployments.listDeployments();
    },
    async getDeploymentHistory(req) {
      return { revisions: domain.deployments.history(req.name, req.limit || undefined) };
    },
    async deleteDeployment(req, ctx) {
      return domain.deployments.deleteDeployment({ name: req.name, ...auditContext(ctx, req.reason) });
    },
  };
}
