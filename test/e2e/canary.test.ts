// Automated canary analysis end to end, with no human action after `slipway deploy`: a canary that
// fails 20% of its requests, and one whose p99 is far above the stable's (test-only fault
// injection in the worker), are aborted; a healthy canary walks every step to 100%. Each decision
// is in the registry's audit log with the numbers it was based on.
import { registry, serving } from '@slipway/contracts';
import { createClient, type ServiceClient } from '@slipway/service-kit';
import { useAppHarness, demoTransaction } from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad, until, type Load } from './support/load.js';
import { buildPlatform, startPlatform, TOKEN, type Platform } from './support/platform.js';

useAppHarness();

beforeAll(async () => {
  await buildPlatform();
}, 300_000);

const transaction = demoTransaction;

interface Decision {
  decision: 'advance' | 'hold' | 'abort';
  candidate: string;
  fromWeight: number;
  toWeight: number;
  numbers: Record<string, number>;
  reasons: string[];
}

describe('automated canary analysis', () => {
  let platform: Platform;
  let client: ServiceClient<typeof serving.PredictionServiceService>;
  let deployments: ServiceClient<typeof registry.DeploymentServiceService>;
  let audit: ServiceClient<typeof registry.AuditServiceService>;
  let load: Load<serving.PredictResponse>;
  const versions: Record<'failing' | 'slow' | 'healthy', number> = { failing: 2, slow: 3, healthy: 4 };

  beforeAll(async () => {
    platform = await startPlatform({
      workers: 1,
      workerEnv: { SLIPWAY_WORKER_TEST_FAULTS: 'fraud@2:error=0.2;fraud@3:delay=150' },
    });
    for (const expected of Object.values(versions)) expect(await platform.copyVersion()).toBe(expected);
    client = createClient(serving.PredictionServiceService, platform.routers[0]!.address);
    deployments = createClient(registry.DeploymentServiceService, platform.registry.address, {
      token: TOKEN,
    });
    audit = createClient(registry.AuditServiceService, platform.registry.address, { token: TOKEN });
    await until('the router serves fraud@1', () =>
      client.predict(transaction(0)).then(
        () => true,
        () => false,
      ),
    );
    // Steady traffic for the whole suite, as production would have.
    load = startLoad(6, (i) => client.predict(transaction(i)));
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    client?.close();
    deployments?.close();
    audit?.close();
    await platform?.stop();
  });

  const decisions = async (candidate: number): Promise<Decision[]> => {
    const { entries } = await audit.listAuditEntries({
      targetPrefix: 'deployment/fraud',
      action: 'rollout.decision',
      afterSeq: 0n,
      descending: false,
      limit: 1000,
    });
    return entries
      .map((e) => JSON.parse(e.afterJson) as Decision)
      .filter((d) => d.candidate === `fraud@${candidate}`);
  };

  const canary = (version: number) =>
    platform.cli(
      'deploy',
      'fraud',
      '--version',
      String(version),
      '--strategy',
      'canary',
      '--steps',
      '20,50,100',
      '--interval',
      '2s',
      '--max-error-rate',
      '0.05',
    );

  const current = async () => (await deployments.getDeployment({ name: 'fraud' })).deployment!;

  it('aborts a canary that fails 20% of its requests, with the error rate in the audit log', async () => {
    await canary(versions.failing);
    await until(
      'the failing canary aborted',
      async () => (await decisions(versions.failing)).some((d) => d.decision === 'abort'),
      40_000,
    );
    const abort = (await decisions(versions.failing)).find((d) => d.decision === 'abort')!;
    expect(abort.toWeight).toBe(0);
    expect(abort.numbers['canaryErrorRate']).toBeGreaterThan(0.1);
    expect(abort.numbers['canaryErrorRate']).toBeLessThan(0.3);
    expect(abort.numbers['stableErrorRate']).toBe(0);
    expect(abort.reasons.join(' ')).toMatch(/error rate/);
    const after = await current();
    expect(after.variants.map((v) => `${v.role}:${v.version}:${v.weight}`)).toContain(
      `${registry.VariantRole.VARIANT_ROLE_STABLE}:1:100`,
    );
    expect(after.variants.some((v) => v.version === versions.failing)).toBe(false);
  }, 60_000);

  it('aborts a canary whose p99 is many times the stable’s', async () => {
    await canary(versions.slow);
    await until(
      'the slow canary aborted',
      async () => (await decisions(versions.slow)).some((d) => d.decision === 'abort'),
      40_000,
    );
    const abort = (await decisions(versions.slow)).find((d) => d.decision === 'abort')!;
    expect(abort.numbers['canaryP99Ms']).toBeGreaterThan(5 * abort.numbers['stableP99Ms']!);
    expect(abort.reasons.join(' ')).toMatch(/p99/);
    expect((await current()).variants.some((v) => v.version === versions.slow)).toBe(false);
  }, 60_000);

  it('walks a healthy canary through every step to 100%', async () => {
    await canary(versions.healthy);
    await until(
      'the healthy canary promoted, and the decision written',
      async () =>
        (await current()).variants.some(
          (v) => v.role === registry.VariantRole.VARIANT_ROLE_STABLE && v.version === versions.healthy,
        ) && (await decisions(versions.healthy)).some((d) => d.toWeight === 100),
      60_000,
    );
    const walked = (await decisions(versions.healthy)).filter((d) => d.decision === 'advance');
    expect(walked.map((d) => `${d.fromWeight}→${d.toWeight}`)).toEqual(['20→50', '50→100']);
    for (const d of walked) {
      expect(d.numbers['canaryRequests']).toBeGreaterThan(0);
      expect(d.numbers['canaryErrorRate']).toBe(0);
    }
    // The CLI shows the rollout's history.
    const history = await platform.cli('rollout', 'status', 'fraud');
    expect(history).toMatch(/advance/);
    expect(history).toMatch(/abort/);
    // The load never saw a failure from the healthy versions.
    expect(load.outcomes.filter((o) => o.value?.version === versions.healthy).length).toBeGreaterThan(0);
  }, 90_000);
});
