// The release commands against a real registry process: every transformation's output goes
// through the registry's own validation, and the router wait sees real heartbeats.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { registry } from '@slipway/contracts';
import { buildLogisticRegression } from '@slipway/onnx';
import { uploadModelVersion } from '@slipway/registry-client';
import {
  abortCanary,
  advanceCanary,
  deployCanary,
  deployDirect,
  findVariant,
  setCanaryWeight,
  startExperiment,
  startShadow,
} from '@slipway/release';
import { createClient } from '@slipway/service-kit';
import {
  createTempDir,
  ensureBuilt,
  repoRoot,
  startApp,
  useAppHarness,
  type RunningApp,
} from '@slipway/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCliContext, type CliContext } from '../context.js';
import { applyTransform } from '../deployment-change.js';

useAppHarness();

const registryEntry = path.join(repoRoot, 'apps/registry/dist/main.js');
const cliEntry = path.join(repoRoot, 'apps/cli/dist/bin.js');
const TOKEN = 'deploy-token';

beforeAll(async () => {
  await ensureBuilt('apps/registry');
  await ensureBuilt('apps/cli');
});

interface Platform {
  registry: RunningApp;
  /** Runs `slipway` as a process against the registry. */
  slipway(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  endpoints: ReturnType<typeof createClient<typeof registry.EndpointServiceService>>;
  deployments: ReturnType<typeof createClient<typeof registry.DeploymentServiceService>>;
  close(): Promise<void>;
}

const exec = promisify(execFile);

/** A registry with `versions` versions of model "fraud", and clients for the test itself. */
async function startPlatform(versions = 3): Promise<Platform> {
  const dir = await createTempDir('cli-release-');
  const app = await startApp({
    name: 'registry',
    entry: registryEntry,
    env: {
      SLIPWAY_REGISTRY_ADDR: '127.0.0.1:0',
      SLIPWAY_REGISTRY_DATA_DIR: path.join(dir.path, 'registry'),
      SLIPWAY_REGISTRY_TOKENS: `${TOKEN}=ci:deployer`,
    },
  });
  const options = { token: TOKEN };
  const models = createClient(registry.ModelServiceService, app.address, options);
  const bytes = buildLogisticRegression({ weights: [0.5, -1], bias: 0.1 }).bytes;
  for (let i = 0; i < versions; i++) {
    await uploadModelVersion(
      models,
      {
        model: 'fraud',
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: BigInt(bytes.length),
        lineage: undefined,
        description: '',
        tags: {},
      },
      [bytes],
    );
  }
  models.close();
  const endpoints = createClient(registry.EndpointServiceService, app.address, options);
  const deployments = createClient(registry.DeploymentServiceService, app.address, options);
  return {
    registry: app,
    endpoints,
    deployments,
    async slipway(...args) {
      try {
        const { stdout, stderr } = await exec(process.execPath, [cliEntry, ...args], {
          env: {
            PATH: process.env['PATH'] ?? '',
            SLIPWAY_REGISTRY_ADDR: app.address,
            SLIPWAY_TOKEN: TOKEN,
            SLIPWAY_DATA_DIR: dir.path,
          },
        });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    },
    async close() {
      endpoints.close();
      deployments.close();
      expect(await app.stop()).toMatchObject({ code: 0 });
    },
  };
}

/** `name ROLE model@version weight` per variant, from `--json status`. */
async function variantsOf(platform: Platform, deployment = 'fraud'): Promise<string[]> {
  const { stdout } = await platform.slipway('--json', 'status', deployment);
  const status = JSON.parse(stdout) as { deployment: { variants: registry.Variant[] } };
  return status.deployment.variants.map(
    (v) =>
      `${v.name} ${registry.variantRoleToJSON(v.role).replace('VARIANT_ROLE_', '')} ${v.model}@${v.version} ${v.weight}`,
  );
}

describe('slipway deploy, promote, rollback', () => {
  it('deploys directly, keeps the replaced version as previous, and rolls back and forward', async () => {
    const p = await startPlatform();
    try {
      const first = await p.slipway('deploy', 'fraud', '--version', '1', '--reason', 'launch');
      expect(first).toMatchObject({ code: 0, stderr: '' });
      expect(first.stdout).toMatch(
        /^deployment "fraud": DIRECT; stable fraud@1 100%\napplied revision \d+\n$/,
      );

      const second = await p.slipway('deploy', 'fraud', '--version', '2');
      expect(second.stdout).toMatch(
        /DIRECT; stable fraud@2 100%, previous fraud@1 \(standby\)\napplied revision \d+\n$/,
      );
      expect(await variantsOf(p)).toEqual(['stable STABLE fraud@2 100', 'previous PREVIOUS fraud@1 0']);

      expect((await p.slipway('deploy', 'fraud', '--version', '2')).stdout).toMatch(
        /^no change to deployment "fraud"/,
      );

      expect((await p.slipway('rollback', 'fraud')).code).toBe(0);
      expect(await variantsOf(p)).toEqual(['stable STABLE fraud@1 100', 'previous PREVIOUS fraud@2 0']);
      await p.slipway('rollback', 'fraud');
      expect(await variantsOf(p)).toEqual(['stable STABLE fraud@2 100', 'previous PREVIOUS fraud@1 0']);

      const { revisions } = await p.deployments.getDeploymentHistory({ name: 'fraud', limit: 10 });
      expect(revisions.at(-1)!.updatedBy).toBe('ci');
    } finally {
      await p.close();
    }
  });

  it('releases blue-green: candidate at 0, promote, roll back', async () => {
    const p = await startPlatform();
    try {
      await p.slipway('deploy', 'fraud', '--version', '1');
      const blue = await p.slipway('deploy', 'fraud', '--version', '2', '--strategy', 'blue-green');
      expect(blue.stdout).toMatch(/BLUE_GREEN; stable fraud@1 100%, candidate fraud@2 0%/);
      expect((await p.slipway('promote', 'fraud')).stdout).toMatch(
        /DIRECT; stable fraud@2 100%, previous fraud@1 \(standby\)/,
      );
      await p.slipway('deploy', 'fraud', '--version', '3', '--strategy', 'blue-green');
      expect((await p.slipway('rollback', 'fraud')).stdout).toMatch(
        /DIRECT; stable fraud@2 100%, previous fraud@1 \(standby\)/,
      );
      expect((await p.slipway('rollback', 'fraud')).stdout).toMatch(
        /DIRECT; stable fraud@1 100%, previous fraud@2 \(standby\)/,
      );
      const again = await p.slipway('promote', 'fraud');
      expect(again.code).toBe(5);
      expect(again.stderr).toBe(
        'error: deployment "fraud" has no candidate to promote (strategy DIRECT); start a release with a blue-green or canary deploy\n',
      );
    } finally {
      await p.close();
    }
  });

  it('runs a canary through its steps and manual weights', async () => {
    const p = await startPlatform();
    try {
      await p.slipway('deploy', 'fraud', '--version', '1');
      const canary = await p.slipway(
        'deploy',
        'fraud',
        '--version',
        '2',
        '--strategy',
        'canary',
        '--steps',
        '10,50,100',
        '--interval',
        '30s',
        '--max-error-rate',
        '0.05',
        '--max-p99-ms',
        '250',
      );
      expect(canary.stdout).toMatch(/CANARY at 10% \(step 1\/3\); stable fraud@1 90%, candidate fraud@2 10%/);

      expect((await p.slipway('canary', 'set-weight', 'fraud', '30')).stdout).toMatch(
        /CANARY at 30% \(step 1\/3\); stable fraud@1 70%, candidate fraud@2 30%/,
      );
      const status = await p.slipway('status', 'fraud');
      expect(status.stdout).toMatch(
        /canary\s+steps \[10\] 50 100, every 30s; abort if error rate > 0\.05, p99 > 250 ms/,
      );
      expect((await p.slipway('canary', 'set-weight', 'fraud', '60')).stdout).toMatch(
        /CANARY at 60% \(step 2\/3\)/,
      );

      const bad = await p.slipway('canary', 'set-weight', 'fraud', '150');
      expect(bad).toMatchObject({
        code: 2,
        stderr: 'error: weight "150" is not a whole percentage from 0 to 100\n',
      });

      expect((await p.slipway('promote', 'fraud')).stdout).toMatch(
        /DIRECT; stable fraud@2 100%, previous fraud@1/,
      );
      expect((await p.slipway('canary', 'set-weight', 'fraud', '20')).code).toBe(5);
    } finally {
      await p.close();
    }
  });

  it('refuses invalid options and states with exit codes 2, 3 and 5 and a clear message', async () => {
    const p = await startPlatform();
    try {
      const cases: Array<[string[], number, string]> = [
        [
          ['deploy', 'fraud', '--version', '0'],
          2,
          'error: --version "0" is not a version number (1 or more)',
        ],
        [
          ['deploy', 'fraud', '--version', '9'],
          2,
          'error: deployment "fraud" is invalid: variant "stable": model "fraud" has no version 9 (latest is 3)',
        ],
        [
          ['deploy', 'fraud', '--version', '1', '--strategy', 'rainbow'],
          2,
          'error: --strategy "rainbow" is not one of direct, blue-green, canary',
        ],
        [
          ['promote', 'ghost'],
          3,
          'error: deployment "ghost" does not exist (create it with `slipway deploy ghost --version N`)',
        ],
      ];
      for (const [args, code, stderr] of cases) {
        expect(await p.slipway(...args), args.join(' ')).toMatchObject({ code, stderr: `${stderr}\n` });
      }
      await p.slipway('deploy', 'fraud', '--version', '1');
      const more: Array<[string[], number, string]> = [
        [
          ['deploy', 'fraud', '--version', '2', '--strategy', 'canary', '--steps', '5,50'],
          2,
          'error: canary steps [5, 50] must end at 100 (the candidate takes all traffic)',
        ],
        [
          ['deploy', 'fraud', '--version', '2', '--steps', '5,100'],
          2,
          'error: --steps applies to --strategy canary only (the strategy is direct)',
        ],
        [
          ['deploy', 'fraud', '--version', '2', '--strategy', 'canary', '--interval', '1500ms'],
          2,
          'error: --interval "1500ms" must be whole seconds, e.g. 30s, 5m or 0 (manual steps)',
        ],
        [
          ['deploy', 'fraud', '--version', '1', '--strategy', 'blue-green'],
          5,
          'error: fraud@1 is already the stable version of deployment "fraud"; release a different version',
        ],
        [
          ['rollback', 'fraud'],
          5,
          'error: deployment "fraud" has no candidate and no previous version to roll back to',
        ],
        [
          [
            'experiment',
            'start',
            'e',
            '--deployment',
            'fraud',
            '--arm',
            'a=1:60',
            '--arm',
            'b=2:50',
            '--unit',
            'user_id',
          ],
          2,
          'error: arm weights add up to 110 (a 60 + b 50); they must add up to 100',
        ],
        [
          [
            'experiment',
            'start',
            'e',
            '--deployment',
            'fraud',
            '--arm',
            'a=1',
            '--arm',
            'b=2:50',
            '--unit',
            'user_id',
          ],
          2,
          'error: --arm "a=1" must be name=version:weight, e.g. control=7:50',
        ],
        [
          ['shadow', 'start', 'fraud', '--version', '2', '--sample', '1.5'],
          2,
          'error: shadow sample 1.5 must be in (0, 1]: the share of requests copied to the shadow',
        ],
        [['experiment', 'stop', 'nope'], 3, 'error: no deployment runs experiment "nope"'],
      ];
      for (const [args, code, stderr] of more) {
        expect(await p.slipway(...args), args.join(' ')).toMatchObject({ code, stderr: `${stderr}\n` });
      }
      expect(await variantsOf(p)).toEqual(['stable STABLE fraud@1 100']);
    } finally {
      await p.close();
    }
  });
});

describe('slipway shadow and experiment', () => {
  it('starts and stops a shadow', async () => {
    const p = await startPlatform();
    try {
      await p.slipway('deploy', 'fraud', '--version', '1');
      expect(
        (await p.slipway('shadow', 'start', 'fraud', '--version', '3', '--sample', '0.25')).stdout,
      ).toMatch(/DIRECT; stable fraud@1 100%, shadow fraud@3 \(25% copied\)/);
      expect(await variantsOf(p)).toEqual(['stable STABLE fraud@1 100', 'shadow SHADOW fraud@3 0']);
      expect((await p.slipway('shadow', 'stop', 'fraud')).stdout).toMatch(/DIRECT; stable fraud@1 100%\n/);
      expect(await p.slipway('shadow', 'stop', 'fraud')).toMatchObject({
        code: 5,
        stderr: 'error: deployment "fraud" has no shadow variant to stop\n',
      });
    } finally {
      await p.close();
    }
  });

  it('starts an experiment and stops it with the default and a chosen winner', async () => {
    const p = await startPlatform();
    try {
      await p.slipway('deploy', 'fraud', '--version', '1');
      await p.slipway('deploy', 'fraud', '--version', '2');
      const arms = ['--arm', 'control=2:50', '--arm', 'treatment=3:50', '--unit', 'user_id'];
      const started = await p.slipway('experiment', 'start', 'threshold', '--deployment', 'fraud', ...arms);
      expect(started.stdout).toMatch(
        /EXPERIMENT "threshold"; control fraud@2 50%, treatment fraud@3 50%, previous fraud@1 \(standby\)/,
      );
      expect((await p.slipway('status', 'fraud')).stdout).toMatch(
        /experiment\s+threshold \(unit user_id, salt threshold\)/,
      );

      // Default winner: the arm holding the stable version from before the experiment.
      expect((await p.slipway('experiment', 'stop', 'threshold')).stdout).toMatch(
        /DIRECT; stable fraud@2 100%, previous fraud@1 \(standby\)/,
      );
      await p.slipway('experiment', 'start', 'threshold', '--deployment', 'fraud', ...arms);
      expect((await p.slipway('experiment', 'stop', 'threshold', '--winner', 'treatment')).stdout).toMatch(
        /DIRECT; stable fraud@3 100%, previous fraud@2 \(standby\)/,
      );
    } finally {
      await p.close();
    }
  });
});

describe('slipway status', () => {
  it('shows variants, their replicas and the routers', async () => {
    const p = await startPlatform();
    try {
      await p.slipway('deploy', 'fraud', '--version', '1');
      expect(await p.slipway('deploy', 'fraud', '--version', '2', '--strategy', 'canary')).toMatchObject({
        code: 0,
      });
      const { revision } = (await p.deployments.getDeployment({ name: 'fraud' })).deployment!;
      const { LOAD_STATE_READY: READY, LOAD_STATE_FAILED: FAILED } = registry.LoadState;
      await p.endpoints.heartbeat({
        workerId: 'w1',
        address: '127.0.0.1:7010',
        versions: [
          { model: 'fraud', version: 1, state: READY, error: '', artifactSha256: '' },
          { model: 'fraud', version: 2, state: FAILED, error: 'out of memory', artifactSha256: '' },
        ],
        labels: {},
        ttlSeconds: 60,
      });
      await p.endpoints.heartbeat({
        workerId: 'router:r1',
        address: '127.0.0.1:8001',
        versions: [],
        labels: { role: 'router', deployment_revision: String(revision) },
        ttlSeconds: 60,
      });
      const { stdout } = await p.slipway('status', 'fraud');
      expect(stdout).toMatch(/strategy\s+CANARY at 5% \(step 1\/4\)/);
      expect(stdout).toMatch(new RegExp(`revision\\s+${revision}\\n`));
      expect(stdout).toMatch(/updated\s+\S+Z by ci/);
      expect(stdout).toMatch(/│ stable\s+│ STABLE\s+│ fraud@1\s+│ 95\s+│/);
      expect(stdout).toMatch(/│ candidate\s+│ CANDIDATE\s+│ fraud@2\s+│ 5\s+│/);
      expect(stdout).toMatch(/│ stable\s+│ fraud@1\s+│ w1\s+│ 127\.0\.0\.1:7010\s+│ READY\s+│/);
      expect(stdout).toMatch(
        /│ candidate\s+│ fraud@2\s+│ w1\s+│ 127\.0\.0\.1:7010\s+│ FAILED: out of memory\s+│/,
      );
      expect(stdout).toMatch(
        new RegExp(`│ router:r1\\s+│ 127\\.0\\.0\\.1:8001\\s+│ ${revision}\\s+│ current\\s+│`),
      );

      const json = JSON.parse((await p.slipway('--json', 'status', 'fraud')).stdout);
      expect(json.routers).toEqual([
        { id: 'router:r1', address: '127.0.0.1:8001', appliedRevision: Number(revision), current: true },
      ]);
      expect(json.replicas).toHaveLength(2);
    } finally {
      await p.close();
    }
  });
});

describe('waiting for routers', () => {
  const routerBeat = (p: Platform, revision: bigint) =>
    p.endpoints.heartbeat({
      workerId: 'router:test',
      address: '127.0.0.1:8001',
      versions: [],
      labels: { role: 'router', deployment_revision: String(revision) },
      ttlSeconds: 60,
    });

  it('returns once the router reports the applied revision, and warns when it lags', async () => {
    const p = await startPlatform();
    try {
      await p.slipway('deploy', 'fraud', '--version', '1');
      const { revision: before } = await p.deployments.listDeployments({});
      await routerBeat(p, before);

      const deploying = p.slipway('deploy', 'fraud', '--version', '2', '--wait-timeout', '20s');
      // The router applies the new revision some time after the registry has it.
      let applied = before;
      while (applied === before) {
        applied = (await p.deployments.getDeployment({ name: 'fraud' })).deployment!.revision;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await routerBeat(p, applied);
      const converged = await deploying;
      expect(converged).toMatchObject({ code: 0, stderr: '' });
      expect(converged.stdout).toMatch(
        new RegExp(`applied revision ${applied}; 1 router\\(s\\) converged\\n$`),
      );

      const lagging = await p.slipway('rollback', 'fraud', '--wait-timeout', '200ms');
      expect(lagging.code).toBe(0);
      const rolledBack = (await p.deployments.getDeployment({ name: 'fraud' })).deployment!.revision;
      expect(lagging.stderr).toBe(
        `warning: 1 of 1 router(s) have not applied revision ${rolledBack} after 200ms: router:test (at ${applied}) (the change is applied; they pick it up when they catch up)\n`,
      );
      expect(lagging.stdout).toMatch(new RegExp(`applied revision ${rolledBack}\\n$`));
    } finally {
      await p.close();
    }
  });
});

describe('applyTransform', () => {
  it('re-reads and re-applies after a concurrent change', async () => {
    const p = await startPlatform();
    const real = createCliContext({ registry: p.registry.address }, { SLIPWAY_TOKEN: TOKEN });
    let conflicts = 0;
    // Someone else changes the deployment between our read and our first apply.
    const ctx: CliContext = {
      ...real,
      deployments: () => ({
        ...real.deployments(),
        applyDeployment: async (request: registry.ApplyDeploymentRequest) => {
          if (conflicts++ === 0) {
            const current = (await real.deployments().getDeployment({ name: 'fraud' })).deployment;
            await real.deployments().applyDeployment({
              deployment: deployDirect(current, 'fraud', { model: 'fraud', version: 3 }),
              expectedRevision: 0n,
              reason: 'concurrent',
            });
          }
          return real.deployments().applyDeployment(request);
        },
      }),
    };
    try {
      await applyTransform(real, 'fraud', (current) =>
        deployDirect(current, 'fraud', { model: 'fraud', version: 1 }),
      );
      const seen: number[] = [];
      const result = await applyTransform(ctx, 'fraud', (current) => {
        seen.push(findVariant(current!, registry.VariantRole.VARIANT_ROLE_STABLE)!.version);
        return startShadow(current, { version: 2, sample: 0.5 });
      });
      expect(result.retries).toBe(1);
      // The second attempt started from the concurrent change and kept it.
      expect(seen).toEqual([1, 3]);
      expect(await variantsOf(p)).toEqual([
        'stable STABLE fraud@3 100',
        'previous PREVIOUS fraud@1 0',
        'shadow SHADOW fraud@2 0',
      ]);
    } finally {
      real.close();
      await p.close();
    }
  });

  it('every transformation of @slipway/release passes the registry validation', async () => {
    const p = await startPlatform();
    const ctx = createCliContext({ registry: p.registry.address }, { SLIPWAY_TOKEN: TOKEN });
    try {
      const steps: Array<(d: registry.Deployment | undefined) => registry.Deployment> = [
        (d) => deployDirect(d, 'fraud', { model: 'fraud', version: 1 }),
        (d) => deployDirect(d, 'fraud', { model: 'fraud', version: 2 }),
        (d) => startShadow(d, { version: 1, sample: 0.1 }),
        (d) =>
          deployCanary(d, { version: 3, steps: [5, 25, 100], intervalSeconds: 60, maxPredictionPsi: 0.2 }),
        advanceCanary,
        (d) => setCanaryWeight(d, 0),
        (d) => setCanaryWeight(d, 40),
        abortCanary,
        (d) => deployCanary(d, { version: 3, steps: [50, 100], intervalSeconds: 0 }),
        advanceCanary,
        (d) =>
          startExperiment(d, {
            name: 'exp',
            unitKey: 'user_id',
            arms: [
              { name: 'a', version: 1, weight: 20 },
              { name: 'b', version: 2, weight: 80 },
            ],
          }),
      ];
      let last = 0n;
      for (const step of steps) {
        const { deployment, changed } = await applyTransform(ctx, 'fraud', step);
        expect(changed).toBe(true);
        expect(deployment.revision).toBeGreaterThan(last);
        last = deployment.revision;
      }
      expect(await variantsOf(p)).toEqual([
        'a ARM fraud@1 20',
        'b ARM fraud@2 80',
        'previous PREVIOUS fraud@3 0',
        'shadow SHADOW fraud@1 0',
      ]);
    } finally {
      ctx.close();
      await p.close();
    }
  });
});
