// BatchService over real gRPC: status codes, roles and audit in a registry on loopback with a
// fresh database, and one occurrence claimed at once by many clients — of one registry, and of
// two registry processes sharing one database file.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { registry } from '@slipway/contracts';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
} from '@slipway/errors';
import { buildLogisticRegression } from '@slipway/onnx';
import { createClient, createLogger, parseConfig, type ServiceClient } from '@slipway/service-kit';
import { createTempDir, ensureBuilt, repoRoot, startApp, useAppHarness } from '@slipway/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registryConfigSchema } from './config.js';
import { createRegistryServer, type RegistryServer } from './registry-server.js';
import { registerTestVersion } from './testing/fixtures.js';

useAppHarness();

const TOKENS = 'dep-token=ci:deployer,read-token=rita:reader';
const { BatchRunStatus: Status } = registry;
type BatchClient = ServiceClient<typeof registry.BatchServiceService>;

/** Deploys a fake `fraud` model so schedules can name the deployment. */
async function deployFraud(domain: RegistryServer['domain']): Promise<void> {
  await registerTestVersion(domain, 'fraud');
  domain.deployments.applyDeployment({
    deployment: registry.Deployment.fromPartial({
      name: 'fraud',
      variants: [
        {
          name: 'stable',
          model: 'fraud',
          version: 1,
          role: registry.VariantRole.VARIANT_ROLE_STABLE,
          weight: 100,
        },
      ],
      strategy: { kind: registry.StrategyKind.STRATEGY_KIND_DIRECT },
    }),
    actor: 'ci',
  });
}

/** A schedule whose latest occurrence (1 January, 00:00 UTC) is due at once and the next a year off. */
const dueNow = (name = 'yearly'): registry.CreateBatchScheduleRequest =>
  registry.CreateBatchScheduleRequest.fromPartial({
    name,
    cron: '0 0 1 1 *',
    startAt: new Date('2020-01-01T00:00:00Z'),
    job: { deployment: 'fraud', input: '/data/tx.csv', output: '/data/scores-{occurrence}.csv' },
  });

describe('BatchService over gRPC', () => {
  let built: RegistryServer;
  let batch: BatchClient;
  let reader: BatchClient;
  let anonymous: BatchClient;
  let audit: ServiceClient<typeof registry.AuditServiceService>;
  let address: string;

  beforeEach(async () => {
    const dir = await createTempDir('registry-batch-');
    const config = parseConfig(registryConfigSchema, {
      SLIPWAY_REGISTRY_ADDR: '127.0.0.1:0',
      SLIPWAY_REGISTRY_DATA_DIR: dir.path,
      SLIPWAY_REGISTRY_TOKENS: TOKENS,
    });
    built = createRegistryServer(config, createLogger('registry', { level: 'warn' }));
    address = (await built.server.start()).address;
    await deployFraud(built.domain);
    batch = createClient(registry.BatchServiceService, address, { token: 'dep-token' });
    reader = createClient(registry.BatchServiceService, address, { token: 'read-token' });
    anonymous = createClient(registry.BatchServiceService, address);
    audit = createClient(registry.AuditServiceService, address);
  });

  afterEach(async () => {
    for (const client of [batch, reader, anonymous, audit]) client.close();
    await built.server.shutdown('test done');
  });

  it('answers bad input with INVALID_ARGUMENT, duplicates with ALREADY_EXISTS, unknowns with NOT_FOUND', async () => {
    const bad = await batch.createBatchSchedule({ ...dueNow(), cron: '0 0 1 13 *' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect(bad).toMatchObject({
      code: 3,
      message: expect.stringContaining('cron "0 0 1 13 *" is invalid: month 13 is out of range 1-12'),
    });
    await batch.createBatchSchedule(dueNow());
    await expect(batch.createBatchSchedule(dueNow())).rejects.toMatchObject({
      name: 'AlreadyExistsError',
      code: 6,
    });
    await expect(batch.createBatchSchedule(dueNow())).rejects.toThrow(AlreadyExistsError);
    await expect(batch.deleteBatchSchedule({ name: 'nope', reason: '' })).rejects.toMatchObject({
      name: 'NotFoundError',
      code: 5,
      message: 'batch schedule "nope" does not exist',
    });
    await expect(batch.pauseBatchSchedule({ name: 'nope', reason: '' })).rejects.toThrow(NotFoundError);
    await expect(batch.listBatchRuns({ schedule: 'nope', limit: 0 })).rejects.toThrow(NotFoundError);
    await expect(
      batch.renewBatchRunLease({ runId: 42n, workerId: 'w1', leaseSeconds: 10 }),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
      code: 5,
      message: 'batch run 42 does not exist',
    });
    await expect(batch.claimBatchRun({ workerId: '', leaseSeconds: 10 })).rejects.toThrow(
      InvalidArgumentError,
    );
  });

  it('mutations need the deployer role; reading is open', async () => {
    await expect(reader.createBatchSchedule(dueNow())).rejects.toThrow(PermissionDeniedError);
    await expect(anonymous.claimBatchRun({ workerId: 'w1', leaseSeconds: 10 })).rejects.toThrow(
      UnauthenticatedError,
    );
    await batch.createBatchSchedule(dueNow());
    await expect(reader.claimBatchRun({ workerId: 'w1', leaseSeconds: 10 })).rejects.toThrow(
      PermissionDeniedError,
    );
    expect((await anonymous.listBatchSchedules({})).schedules.map((s) => s.name)).toEqual(['yearly']);
    expect((await anonymous.listBatchRuns({ schedule: '', limit: 0 })).runs).toEqual([]);
  });

  it('claim, renew, lose the lease to a takeover, complete — audited with the caller as actor', async () => {
    await batch.createBatchSchedule(dueNow());
    const { run, takeover } = await batch.claimBatchRun({ workerId: 'w1', leaseSeconds: 2 });
    const key = `${new Date().getUTCFullYear()}0101T0000Z`;
    expect(takeover).toBe(false);
    expect(run).toMatchObject({
      schedule: 'yearly',
      occurrenceKey: key,
      status: Status.BATCH_RUN_STATUS_RUNNING,
      workerId: 'w1',
      job: { output: `/data/scores-${key}.csv` },
    });
    expect((await batch.claimBatchRun({ workerId: 'w2', leaseSeconds: 2 })).run).toBeUndefined();
    const renewed = await batch.renewBatchRunLease({ runId: run!.runId, workerId: 'w1', leaseSeconds: 2 });
    expect(renewed.leaseExpiresAt!.getTime()).toBeGreaterThan(Date.now());

    // w1 stops renewing; once its lease has expired, w2 takes the run over.
    let taken: registry.ClaimBatchRunResponse = { run: undefined, takeover: false };
    const until = Date.now() + 15_000;
    while (!taken.run && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      taken = await batch.claimBatchRun({ workerId: 'w2', leaseSeconds: 30 });
    }
    expect(taken).toMatchObject({ takeover: true, run: { runId: run!.runId, workerId: 'w2', attempts: 2 } });
    const lost = await batch
      .renewBatchRunLease({ runId: run!.runId, workerId: 'w1', leaseSeconds: 2 })
      .catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(FailedPreconditionError);
    expect(lost).toMatchObject({ code: 9 });
    expect((lost as Error).message).toMatch(
      /worker "w1" does not hold the lease on batch run 1 .*worker "w2" took it over/,
    );

    const completion = {
      runId: run!.runId,
      workerId: 'w2',
      status: Status.BATCH_RUN_STATUS_SUCCEEDED,
      rowsRead: 100n,
      rowsScored: 99n,
      rowsRejected: 1n,
      outputSha256: 'b'.repeat(64),
      message: '',
    };
    await expect(batch.completeBatchRun({ ...completion, workerId: 'w1' })).rejects.toThrow(
      FailedPreconditionError,
    );
    const { run: done } = await batch.completeBatchRun(completion);
    expect(done).toMatchObject({ status: Status.BATCH_RUN_STATUS_SUCCEEDED, rowsRead: 100n, workerId: 'w2' });
    const { runs } = await batch.listBatchRuns({ schedule: 'yearly', limit: 0 });
    expect(runs).toEqual([done]);

    const { entries } = await audit.listAuditEntries({
      targetPrefix: 'batch-',
      action: '',
      afterSeq: 0n,
      descending: false,
      limit: 0,
    });
    expect(entries.map((e) => [e.action, e.target, e.actor])).toEqual([
      ['batch.schedule.create', 'batch-schedule/yearly', 'ci'],
      ['batch.run.claim', `batch-run/yearly@${key}`, 'ci'],
      ['batch.run.takeover', `batch-run/yearly@${key}`, 'ci'],
      ['batch.run.complete', `batch-run/yearly@${key}`, 'ci'],
    ]);
  });

  it('one occurrence claimed at once by 24 clients: exactly one wins', async () => {
    await batch.createBatchSchedule(dueNow());
    const clients = Array.from({ length: 24 }, () =>
      createClient(registry.BatchServiceService, address, { token: 'dep-token' }),
    );
    try {
      await Promise.all(clients.map((c) => c.waitForReady(5000)));
      const claims = await Promise.all(
        clients.map((c, i) => c.claimBatchRun({ workerId: `w${i}`, leaseSeconds: 30 })),
      );
      const winners = claims.filter((c) => c.run !== undefined);
      expect(winners).toHaveLength(1);
      expect((await batch.listBatchRuns({ schedule: '', limit: 0 })).runs).toHaveLength(1);
    } finally {
      for (const c of clients) c.close();
    }
  });
});

describe('two registry processes on one database', () => {
  it('hand out one occurrence once to 2 × 12 concurrent claims', async () => {
    await ensureBuilt('apps/registry');
    const dir = await createTempDir('registry-batch-two-');
    const start = (name: string) =>
      startApp({
        name,
        entry: path.join(repoRoot, 'apps/registry/dist/main.js'),
        addressEnv: 'SLIPWAY_REGISTRY_ADDR',
        env: {
          SLIPWAY_REGISTRY_ADDR: '127.0.0.1:0',
          SLIPWAY_REGISTRY_DATA_DIR: dir.path,
          SLIPWAY_REGISTRY_TOKENS: TOKENS,
        },
        telemetry: false,
        readyTimeoutMs: 60_000,
      });
    const first = await start('registry-1');
    const second = await start('registry-2');
    const clients: BatchClient[] = [];
    try {
      // A real model version and deployment, through the first process.
      const deployments = createClient(registry.DeploymentServiceService, first.address, {
        token: 'dep-token',
      });
      const models = createClient(registry.ModelServiceService, first.address, { token: 'dep-token' });
      try {
        await registerOnnx(models);
        await deployments.applyDeployment({
          deployment: registry.Deployment.fromPartial({
            name: 'fraud',
            variants: [
              {
                name: 'stable',
                model: 'fraud',
                version: 1,
                role: registry.VariantRole.VARIANT_ROLE_STABLE,
                weight: 100,
              },
            ],
            strategy: { kind: registry.StrategyKind.STRATEGY_KIND_DIRECT },
          }),
          expectedRevision: 0n,
          reason: '',
        });
      } finally {
        deployments.close();
        models.close();
      }
      const admin = createClient(registry.BatchServiceService, second.address, { token: 'dep-token' });
      clients.push(admin);
      await admin.createBatchSchedule(dueNow());
      for (let i = 0; i < 24; i++) {
        clients.push(
          createClient(registry.BatchServiceService, i % 2 === 0 ? first.address : second.address, {
            token: 'dep-token',
          }),
        );
      }
      const claimers = clients.slice(1);
      await Promise.all(claimers.map((c) => c.waitForReady(5000)));
      const claims = await Promise.all(
        claimers.map((c, i) => c.claimBatchRun({ workerId: `w${i}`, leaseSeconds: 30 })),
      );
      expect(claims.filter((c) => c.run !== undefined)).toHaveLength(1);
      expect((await admin.listBatchRuns({ schedule: 'yearly', limit: 0 })).runs).toHaveLength(1);
    } finally {
      for (const c of clients) c.close();
      await second.stop();
      await first.stop();
    }
  }, 120_000);
});

/** Registers a small logistic regression as `fraud` version 1 over gRPC. */
async function registerOnnx(models: ServiceClient<typeof registry.ModelServiceService>): Promise<void> {
  const bytes = buildLogisticRegression({ weights: [0.5, -1.25, 2], bias: 0.1 }).bytes;
  async function* upload(): AsyncIterable<registry.RegisterModelVersionRequest> {
    yield {
      part: {
        $case: 'header',
        header: {
          model: 'fraud',
          sha256: createHash('sha256').update(bytes).digest('hex'),
          size: BigInt(bytes.length),
          lineage: undefined,
          description: '',
          tags: {},
        },
      },
    };
    yield { part: { $case: 'chunk', chunk: bytes } };
  }
  await models.registerModelVersion(upload());
}
