import { type registry } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import type { ServiceImplementation, ServicePolicy } from '@slipway/service-kit';
import type { RegistryDomain } from '../domain/index.js';
import { auditContext } from './model-service.js';

type Definition = typeof registry.AuditServiceService;

/** Reading and verifying are open; appending a decision needs the deployer role. */
export const auditPolicy: ServicePolicy<Definition> = { appendAuditEntry: 'deployer' };

/** `slipway.registry.v1.AuditService` over the registry domain. */
export function createAuditService(domain: RegistryDomain): ServiceImplementation<Definition> {
  return {
    async listAuditEntries(req) {
      return {
        entries: domain.audit.list({
          targetPrefix: req.targetPrefix,
          action: req.action,
          afterSeq: req.afterSeq,
          descending: req.descending,
          limit: req.limit || undefined,
        }),
      };
    },
    async verifyAuditLog() {
      return domain.audit.verify();
    },
    async appendAuditEntry(req, ctx) {
      if (!req.action || !req.target) {
        throw new InvalidArgumentError(
          'an audit entry needs an action (e.g. rollout.decision) and a target (e.g. deployment/fraud)',
        );
      }
      const entry = domain.audit.record({
        action: req.action,
        target: req.target,
        before: req.beforeJson,
        after: req.afterJson,
        ...auditContext(ctx, req.reason),
      });
      return { entry };
    },
  };
}
