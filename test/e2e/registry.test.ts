// The registry as a real process: watch latency and resume across a SIGKILL, and the `slipway`
// CLI against it, including tamper detection of the audit log in the SQLite file.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { registry } from '@slipway/contracts';
import { buildLogisticRegression } from '@slipway/onnx';
import { createRegistryWatcher } from '@slipway/registry-client';
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

useAppHarness();

const registryEntry = path.join(repoRoot, 'apps/registry/dist/main.js');
const cliEntry = path.join(repoRoot, 'apps/cli/dist/bin.js');
const TOKENS = 'deploy-token=ci:deployer,admin-token=ada:admin';

beforeAll(async () => {
  await ensureBuilt('apps/registry');
  await ensureBuilt('apps/cli');
});

async function startRegistry(dataDir: string): Promise<RunningApp> {
  return startApp({
    name: 'registry',
    entry: registryEntry,
    addressEnv: 'SLIPWAY_REGISTRY_ADDR',
    env: {
      SLIPWAY_REGISTRY_ADDR: '127.0.0.1:0',
      SLIPWAY_REGISTRY_DATA_DIR: dataDir,
      SLIPWAY_REGISTRY_TOKENS: TOKENS,
    },
  });
}

async function registerVersion(address: string, model: string, bytes: Uint8Array): Promise<number> {
  const client = createClient(registry.ModelServiceService, address, { token: 'deploy-token' });
  try {
    async function* parts(): AsyncIterable<registry.RegisterModelVersionRequest> {
      yield {
        part: {
          $case: 'header',
          header: {
            model,
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
    const { version } = await client.registerModelVersion(parts());
    return version!.version;
  } finally {
    client.close();
  }
}

function deployment(description: string): registry.Deployment {
  return registry.Deployment.fromPartial({
    name: 'fraud',
    description,
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
  });
}

describe('registry watch', () => {
  it('reaches a watcher within a second and resumes across a SIGKILL without losing or repeating a revision', async () => {
    const dir = await createTempDir('registry-e2e-');
    const app = await startRegistry(dir.path);
    await registerVersion(app.address, 'fraud', buildLogisticRegression({ weights: [1, 2], bias: 0 }).bytes);

    const seen: bigint[] = [];
    const descriptions = new Map<bigint, string>();
    const waiters: Array<{ revision: bigint; resolve: () => void }> = [];
    const watcher = createRegistryWatcher({
      address: app.address,
      baseBackoffMs: 50,
      maxBackoffMs: 200,
      onEvent: (event) => {
        if (event.event?.$case !== 'deployment') return;
        seen.push(event.revision);
        descriptions.set(event.revision, event.event.deployment.deployment?.description ?? '');
        for (const w of waiters.filter((x) => event.revision >= x.revision)) w.resolve();
      },
    });
    const deployments = createClient(registry.DeploymentServiceService, app.address, {
      token: 'deploy-token',
    });
    const seenWithin = (revision: bigint, ms: number) =>
      new Promise<void>((resolve, reject) => {
        if (seen.some((r) => r >= revision)) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`revision ${revision} not seen within ${ms} ms`)),
          ms,
        );
        waiters.push({ revision, resolve: () => (clearTimeout(timer), resolve()) });
      });
    const acked: Array<{ revision: bigint; description: string }> = [];
    const apply = async (description: string) => {
      const res = await deployments.applyDeployment({
        deployment: deployment(description),
        expectedRevision: 0n,
        reason: 'e2e',
      });
      acked.push({ revision: res.deployment!.revision, description });
      return res.deployment!.revision;
    };
    try {
      await watcher.ready();
      for (let i = 0; i < 5; i++) {
        const revision = await apply(`before-kill-${i}`);
        await seenWithin(revision, 1_000);
      }
      // Changes the watcher may or may not have received before the crash.
      for (let i = 0; i < 5; i++) await apply(`racing-kill-${i}`);
      await app.kill();
      await app.restart();
      await deployments.waitForReady(5_000);
      for (let i = 0; i < 5; i++) await apply(`after-restart-${i}`);
      await seenWithin(acked.at(-1)!.revision, 10_000);

      // Every acknowledged change reached the watcher exactly once, in order.
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort((a, b) => (a < b ? -1 : 1))).toEqual(seen);
      for (const change of acked) expect(descriptions.get(change.revision)).toBe(change.description);
      // And the registry kept every acknowledged change across the SIGKILL.
      const history = await deployments.getDeploymentHistory({ name: 'fraud', limit: 100 });
      expect(history.revisions.map((d) => d.description).reverse()).toEqual(acked.map((a) => a.description));
      // An open watch does not hold up a clean shutdown.
      expect(await app.stop('SIGTERM', 5_000)).toMatchObject({ code: 0, timedOut: false });
    } finally {
      watcher.close();
      deployments.close();
    }
  });
});

const run = promisify(execFile);

async function slipway(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliEntry, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('slipway CLI', () => {
  it('registers, lists, shows, moves aliases, and verifies the audit log until a row is edited in the file', async () => {
    const dir = await createTempDir('registry-cli-');
    const app = await startRegistry(path.join(dir.path, 'registry'));
    const env = {
      SLIPWAY_REGISTRY_ADDR: app.address,
      SLIPWAY_TOKEN: 'deploy-token',
      SLIPWAY_DATA_DIR: dir.path,
    };
    const file = path.join(dir.path, 'model.onnx');
    writeFileSync(file, buildLogisticRegression({ weights: [0.5, 1.5, -2], bias: 0.25 }).bytes);
    const metrics = path.join(dir.path, 'metrics.json');
    writeFileSync(metrics, JSON.stringify([{ name: 'auc', value: 0.81, dataset: 'holdout' }]));

    const anonymous = await slipway(['model', 'register', '--name', 'fraud', '--file', file], {
      SLIPWAY_REGISTRY_ADDR: app.address,
      SLIPWAY_DATA_DIR: dir.path,
    });
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toMatch(/^error: .*token/im);

    const registered = await slipway(
      [
        'model',
        'register',
        '--name',
        'fraud',
        '--file',
        file,
        '--metrics',
        metrics,
        '--tag',
        'team=risk',
        '--code-version',
        'abc123',
      ],
      env,
    );
    expect(registered).toMatchObject({ code: 0 });
    expect(registered.stdout).toMatch(/registered fraud@1/);
    await slipway(['model', 'register', '--name', 'fraud', '--file', file, '--parent', '1'], env);

    const listed = await slipway(['--json', 'model', 'list'], env);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ name: 'fraud', latestVersion: 2, versionCount: 2 }),
    ]);

    const shown = await slipway(['model', 'show', 'fraud@1'], env);
    expect(shown.stdout).toMatch(/auc\s.*0\.81.*holdout/);
    expect(shown.stdout).toMatch(/input\s.*FP32\s.*\[batch, 3\]/);
    expect(shown.stdout).toMatch(/code version\s+abc123/);

    expect((await slipway(['alias', 'set', 'fraud', 'champion', '1', '--reason', 'launch'], env)).code).toBe(
      0,
    );
    expect((await slipway(['alias', 'set', 'fraud', 'champion', '2'], env)).stdout).toMatch(
      /champion → 2 \(was 1\)/,
    );
    expect(await slipway(['model', 'show', 'fraud@9'], env)).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/no version 9/),
    });

    const updated = await slipway(
      [
        '--json',
        'model',
        'update',
        'fraud@1',
        '--description',
        'launch model',
        '--tag',
        'tier=gold',
        '--remove-tag',
        'team',
      ],
      env,
    );
    expect(JSON.parse(updated.stdout)).toMatchObject({ description: 'launch model', tags: { tier: 'gold' } });
    expect(JSON.parse(updated.stdout).tags).not.toHaveProperty('team');

    const log = await slipway(['--json', 'audit', 'log', '--model', 'fraud'], env);
    const entries = JSON.parse(log.stdout) as Array<{ seq: number; action: string; actor: string }>;
    expect(entries.map((e) => e.action)).toEqual([
      'model.update',
      'model.alias.set',
      'model.alias.set',
      'model.register',
      'model.register',
    ]);
    expect(entries.every((e) => e.actor === 'ci')).toBe(true);

    const intact = await slipway(['audit', 'verify'], env);
    expect(intact).toMatchObject({ code: 0 });
    expect(intact.stdout).toMatch(/intact: 5 entries/);

    // Someone with the file rewrites history: drops the guard trigger and edits an entry.
    const raw = new Database(path.join(dir.path, 'registry', 'registry.db'));
    raw.exec('DROP TRIGGER audit_log_no_update');
    raw.prepare(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`).run();
    raw.close();
    const tampered = await slipway(['audit', 'verify'], env);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/TAMPERED at entry 2/);

    expect(await app.stop()).toMatchObject({ code: 0 });
    const unreachable = await slipway(['model', 'list'], env);
    expect(unreachable.code).toBe(6);
    expect(unreachable.stderr).toMatch(
      /^error: cannot reach the registry at 127\.0\.0\.1:\d+ \(is `npm start` running\?/,
    );
  });

  it('reports a deleted audit row', async () => {
    const dir = await createTempDir('registry-cli-');
    const app = await startRegistry(path.join(dir.path, 'registry'));
    const env = { SLIPWAY_REGISTRY_ADDR: app.address, SLIPWAY_TOKEN: 'deploy-token' };
    const file = path.join(dir.path, 'model.onnx');
    writeFileSync(file, buildLogisticRegression({ weights: [1, 1], bias: 0 }).bytes);
    for (let i = 0; i < 3; i++) await slipway(['model', 'register', '--name', 'churn', '--file', file], env);
    const raw = new Database(path.join(dir.path, 'registry', 'registry.db'));
    raw.exec('DROP TRIGGER audit_log_no_delete');
    raw.prepare('DELETE FROM audit_log WHERE seq = 2').run();
    raw.close();
    const tampered = await slipway(['--json', 'audit', 'verify'], env);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toMatchObject({ ok: false, firstBadSeq: expect.any(Number) });
    expect(await app.stop()).toMatchObject({ code: 0 });
  });
});
