import { type registry } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import type { ServiceImplementation, ServicePolicy } from '@slipway/service-kit';
import type { RegistryDomain } from '../domain/index.js';
import { auditContext } from './model-service.js';

type Definition = typeof registry.BatchServiceService;

/** Listing is open; schedules and runs change with the deployer role (batch workers hold one). */
export const batchPolicy: ServicePolicy<Definition> = {
  createBatchSchedule: 'deployer',
  deleteBatchSchedule: 'deployer',
  pauseBatchSchedule: 'deployer',
  resumeBatchSchedule: 'deployer',
  claimBatchRun: 'deployer',
  renewBatchRunLease: 'deployer',
  completeBatchRun: 'deployer',
  releaseBatchRun: 'deployer',
};

/** `slipway.registry.v1.BatchService` over the registry domain. */
export function createBatchService(domain: RegistryDomain): ServiceImplementation<Definition> {
  return {
    async createBatchSchedule(req, ctx) {
      if (!req.job) {
        throw new InvalidArgumentError(
          'CreateBatchSchedule needs a job: the deployment, input and output of each run',
        );
      }
      const schedule = domain.batch.create({
        name: req.name,
        cron: req.cron,
        job: req.job,
        ...(req.startAt ? { startAt: req.startAt } : {}),
        paused: req.paused,
        ...auditContext(ctx),
      });
      return { schedule };
    },
    async listBatchSchedules() {
      return { schedules: domain.batch.list() };
    },
    async deleteBatchSchedule(req, ctx) {
      return domain.batch.remove(req.name, auditContext(ctx, req.reason));
    },
    async pauseBatchSchedule(req, ctx) {
      return { schedule: domain.batch.setPaused(req.name, true, auditContext(ctx, req.reason)) };
    },
    async resumeBatchSchedule(req, ctx) {
      return { schedule: domain.batch.setPaused(req.name, false, auditContext(ctx, req.reason)) };
    },
    async claimBatchRun(req, ctx) {
      return domain.batch.claim({
        workerId: req.workerId,
        leaseSeconds: req.leaseSeconds,
        ...auditContext(ctx),
      });
    },
    async renewBatchRunLease(req) {
      return domain.batch.renew({ runId: req.runId, workerId: req.workerId, leaseSeconds: req.leaseSeconds });
    },
    async completeBatchRun(req, ctx) {
      const run = domain.batch.complete({
        runId: req.runId,
        workerId: req.workerId,
        status: req.status,
        rowsRead: req.rowsRead,
        rowsScored: req.rowsScored,
        rowsRejected: req.rowsRejected,
        outputSha256: req.outputSha256,
        message: req.message,
        ...auditContext(ctx),
      });
      return { run };
    },
    async releaseBatchRun(req, ctx) {
      const run = domain.batch.release({
        runId: req.runId,
        workerId: req.workerId,
        message: req.message,
        ...auditContext(ctx),
      });
      return { run };
    },
    async listBatchRuns(req) {
      return { runs: domain.batch.listRuns({ schedule: req.schedule, limit: req.limit || undefined }) };
    },
  };
}
