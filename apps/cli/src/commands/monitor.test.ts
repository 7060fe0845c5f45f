// `slipway monitor`, `shadow report`, `experiment report` and `outcome send` as processes, against a
// real monitor process reading a real registry process (deployment, reference profile).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { monitor, registry } from '@slipway/contracts';
import { buildProfile, encodeProfile, fit, transform, type FeatureSetSpec } from '@slipway/features';
import { buildLogisticRegression, createSeededRandom } from '@slipway/onnx';
import { uploadModelVersion } from '@slipway/registry-client';
import { deployDirect, startShadow } from '@slipway/release';
import { createClient } from '@slipway/service-kit';
import {
  createTempDir,
  ensureBuilt,
  repoRoot,
  startApp,
  useAppHarness,
  type RunningApp,
} from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../exit-codes.js';
import { buildOutcome } from './outcome.js';
import { parseDuration } from './monitor.js';

useAppHarness();

const exec = promisify(execFile);
const TOKEN = 'deploy-token';
const MINUTE = 60_000;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

const spec: FeatureSetSpec = {
  name: 'fraud-features',
  version: 1,
  entityKeys: ['user_id'],
  features: [
    { name: 'amount', source: { field: 'amount' }, kind: 'numeric', transforms: [] },
    { name: 'country', source: { field: 'country' }, kind: 'categorical', transforms: [{ type: 'one-hot' }] },
  ],
};

let registryApp: RunningApp;
let monitorApp: RunningApp;
let dataDir: string;

/** Runs `slipway` as a process against the registry and the monitor. */
async function slipway(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(
      process.execPath,
      [path.join(repoRoot, 'apps/cli/dist/bin.js'), ...args],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          SLIPWAY_REGISTRY_ADDR: registryApp.address,
          SLIPWAY_MONITOR_ADDR: monitorApp.address,
          SLIPWAY_TOKEN: TOKEN,
          SLIPWAY_DATA_DIR: dataDir,
        },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A deployment "fraud" (stable fraud@1 with a reference profile, shadow fraud@2) and traffic for it. */
async function seed(): Promise<void> {
  const random = createSeededRandom(11);
  const training = Array.from({ length: 3_000 }, () => ({
    amount: random.normal(),
    country: random.next() < 0.3 ? 'DE' : 'FR',
  }));
  const fitted = fit(spec, training);
  const profile = buildProfile(
    fitted,
    transform(fitted, training),
    training.map((r) => sigmoid(r.amount)),
  );
  const models = createClient(registry.ModelServiceService, registryApp.address, { token: TOKEN });
  const deployments = createClient(registry.DeploymentServiceService, registryApp.address, { token: TOKEN });
  const client = createClient(monitor.MonitorServiceService, monitorApp.address, { token: TOKEN });
  try {
    const bytes = buildLogisticRegression({ weights: [0.5, -1], bias: 0.1 }).bytes;
    for (let v = 0; v < 2; v++) {
      await uploadModelVersion(
        models,
        {
          model: 'fraud',
          sha256: createHash('sha256').update(bytes).digest('hex'),
          size: BigInt(bytes.length),
          lineage: registry.Lineage.fromPartial({ referenceProfile: encodeProfile(profile) }),
          description: '',
          tags: {},
        },
        [bytes],
      );
    }
    const deployment = startShadow(deployDirect(undefined, 'fraud', { model: 'fraud', version: 1 }), {
      version: 2,
      sample: 1,
    });
    await deployments.applyDeployment({ deployment, expectedRevision: 0n, reason: 'test' });

    // 600 requests over the last 50 minutes, the amount shifted by 1σ: drift; every other one
    // shadowed; units u0…u599 in an experiment "checkout" with arms by parity.
    const serving = Array.from({ length: 600 }, () => ({
      amount: random.normal() + 1,
      country: random.next() < 0.3 ? 'DE' : 'FR',
    }));
    const { matrix } = transform(fitted, serving);
    const width = fitted.columns.length;
    const now = Date.now();
    const records: monitor.PredictionRecord[] = [];
    serving.forEach((row, i) => {
      const arm = i % 2 === 0 ? 'control' : 'treatment';
      const record: monitor.PredictionRecord = {
        requestId: `r${i}`,
        deployment: 'fraud',
        variant: 'stable',
        model: 'fraud',
        version: 1,
        features: Array.from(matrix.subarray(i * width, (i + 1) * width)),
        outputs: [sigmoid(row.amount)],
        latencyMs: 3 + (i % 5),
        status: i % 50 === 0 ? 'UNAVAILABLE' : 'OK',
        time: new Date(now - 50 * MINUTE + i * 5_000),
        experimentArm: arm,
        unitKey: `u${i}`,
        source: 'predict',
        shadow: false,
        featureSetHash: fitted.contentHash,
        entityKeys: {},
        error: '',
        experiment: 'checkout',
      };
      records.push(record);
      if (i % 2 === 0) {
        records.push({
          ...record,
          variant: 'shadow',
          version: 2,
          shadow: true,
          outputs: [sigmoid(row.amount + 0.2)],
          status: 'OK',
          latencyMs: 30,
          experiment: '',
          experimentArm: '',
          unitKey: '',
        });
      }
    });
    await client.ingestPredictions([{ records }]);
    // Labels for every answered request, a conversion for a fifth of the units.
    const outcomes: monitor.Outcome[] = [];
    serving.forEach((row, i) => {
      const base = { outcomeId: '', unitKey: '', deployment: '', kpi: '', value: 0, time: undefined };
      outcomes.push({ ...base, requestId: `r${i}`, label: random.next() < sigmoid(row.amount) ? 1 : 0 });
      if (i % 5 === 0) {
        outcomes.push({
          ...base,
          requestId: '',
          unitKey: `u${i}`,
          deployment: 'fraud',
          kpi: 'converted',
          value: 1,
        });
      }
    });
    await client.ingestOutcomes([{ outcomes }]);
  } finally {
    models.close();
    deployments.close();
    client.close();
  }
}

beforeAll(async () => {
  await Promise.all([ensureBuilt('apps/registry'), ensureBuilt('apps/monitor'), ensureBuilt('apps/cli')]);
  const dir = await createTempDir('cli-monitor-');
  dataDir = dir.path;
  registryApp = await startApp({
    name: 'registry',
    entry: path.join(repoRoot, 'apps/registry/dist/main.js'),
    env: {
      SLIPWAY_REGISTRY_ADDR: '127.0.0.1:0',
      SLIPWAY_REGISTRY_DATA_DIR: path.join(dir.path, 'registry'),
      SLIPWAY_REGISTRY_TOKENS: `${TOKEN}=ci:deployer`,
    },
  });
  monitorApp = await startApp({
    name: 'monitor',
    entry: path.join(repoRoot, 'apps/monitor/dist/main.js'),
    env: {
      SLIPWAY_MONITOR_ADDR: '127.0.0.1:0',
      SLIPWAY_MONITOR_DATA_DIR: path.join(dir.path, 'monitor'),
      SLIPWAY_MONITOR_TOKENS: `${TOKEN}=ci:deployer`,
      SLIPWAY_REGISTRY_ADDR: registryApp.address,
      SLIPWAY_MONITOR_TOKEN: TOKEN,
    },
  });
  await seed();
}, 180_000);

afterAll(async () => {
  await monitorApp?.stop();
  await registryApp?.stop();
});

describe('slipway monitor', () => {
  it('health: a row per variant with rate, errors, timeouts and latency', async () => {
    const table = await slipway('monitor', 'health', 'fraud');
    expect(table).toMatchObject({ code: 0, stderr: '' });
    expect(table.stdout).toMatch(/^deployment\s+fraud\nwindow\s+\d{4}-\d\d-\d\dT[\d:]+Z → /);
    expect(table.stdout).toMatch(
      /│ stable\s+│ fraud@1\s+│ 600\s+│ 0\.17\s+│ 12\s+│ 2\.00%\s+│ 0\s+│ [\d.]+ ms\s+│/,
    );
    expect(table.stdout).toMatch(/│ shadow \(shadow\)\s+│ fraud@2\s+│ 300\s+│/);
    expect(table.stdout).toMatch(/UNAVAILABLE 12/);

    const json = await slipway('monitor', 'health', 'fraud', '--window', '10m', '--json');
    const health = JSON.parse(json.stdout) as { variants: { variant: string; requests: number }[] };
    // The requests span 50 to ~0 minutes ago, one every 5 s.
    const stable = health.variants.find((v) => v.variant === 'stable')!;
    expect(stable.requests).toBeGreaterThanOrEqual(118);
    expect(stable.requests).toBeLessThanOrEqual(121);
  });

  it('drift: the shifted feature and the predictions drift, the other does not', async () => {
    const out = await slipway('monitor', 'drift', 'fraud', '--window', '1h');
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toMatch(/variant\s+stable \(fraud@1\)/);
    expect(out.stdout).toMatch(/samples\s+588/);
    expect(out.stdout).toMatch(/drifted\s+yes/);
    expect(out.stdout).toMatch(
      /│ amount\s+│ ks\+psi\s+│ [\d.]+\s+│ <0\.0001\s+│ [\d.]+\s+│ 0\.10\s+│ 588\s+│ drift\s+│/,
    );
    expect(out.stdout).toMatch(/│ country\s+│ chi2\+jensen_shannon\s+│ .* │ ok\s+│/);
    expect(out.stdout).toMatch(/│ \(prediction\)\s+│ ks\+psi\s+│ .* │ drift\s+│/);
  });

  it('performance: buckets and a total with AUC from the delayed labels', async () => {
    const out = await slipway('monitor', 'performance', 'fraud', '--window', '1d', '--bucket', '6h');
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toMatch(/threshold\s+0\.5/);
    expect(out.stdout).toMatch(/│ total\s+│ 588\s+│ 588\s+│ 100\.0%\s+│ 0\.\d{3}\s+│/);
    const json = JSON.parse((await slipway('--json', 'monitor', 'performance', 'fraud')).stdout) as {
      total: { auc: number; labelled: number };
    };
    expect(json.total.labelled).toBe(588);
    expect(json.total.auc).toBeGreaterThan(0.6);
  });

  it('says which deployment is unknown, which window is wrong, and where the monitor is not', async () => {
    const unknown = await slipway('monitor', 'health', 'frud');
    expect(unknown).toMatchObject({
      code: 3,
      stderr:
        'error: the monitor has no prediction records of deployment "frud" (deployments with records: fraud)\n',
    });
    const window = await slipway('monitor', 'health', 'fraud', '--window', 'an hour');
    expect(window).toMatchObject({
      code: 2,
      stderr: 'error: --window "an hour" is not a duration such as 90s, 15m, 1h or 7d\n',
    });
    const away = await slipway('--monitor', '127.0.0.1:1', 'monitor', 'health', 'fraud');
    expect(away.code).toBe(6);
    expect(away.stderr).toMatch(
      /^error: cannot reach the monitor at 127\.0\.0\.1:1 \(is `npm start` running\? set SLIPWAY_MONITOR_ADDR or --monitor\)/,
    );
  });
});

describe('slipway shadow report', () => {
  it('compares the shadow with the primary on the same requests', async () => {
    const out = await slipway('shadow', 'report', 'fraud', '--examples', '2');
    expect(out).toMatchObject({ code: 0, stderr: '' });
    // 300 requests were shadowed; 12 of their primaries failed (every 50th request).
    expect(out.stdout).toMatch(/primary\s+stable\nshadow\s+shadow\nwindow\s+last 1h\npairs\s+288\n/);
    expect(out.stdout).toMatch(/agreement\s+\d+\.\d\d% \(same side of threshold 0\.5\)/);
    expect(out.stdout).toMatch(/latency p50\s+[\d.]+ ms primary, 30\.\d ms shadow/);
    expect(out.stdout.match(/│ r\d+\s+│/g)).toHaveLength(2);
  });
});

describe('slipway experiment report', () => {
  it('shows the arms and the comparison with the control', async () => {
    const out = await slipway('experiment', 'report', 'checkout', '--kpi', 'converted');
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toMatch(
      /kpi\s+converted\nneeded\s+\d+ units per arm to detect 0\.02 \(alpha 0\.05, power 0\.8\)/,
    );
    // u0, u5, u10…: every tenth unit of each arm converted (i % 5 === 0 hits both parities).
    expect(out.stdout).toMatch(/│ control\s+│ 300\s+│ 0\.2000\s+│/);
    expect(out.stdout).toMatch(/│ treatment\s+│ 300\s+│ 0\.2000\s+│/);
    expect(out.stdout).toMatch(
      /│ treatment\s+│ control\s+│ -?0\.0000\s+│ \[-[\d.]+, [\d.]+\]\s+│ 1\.0000\s+│ two-proportion-z\s+│ no\s+│/,
    );
    const json = JSON.parse(
      (await slipway('--json', 'experiment', 'report', 'checkout', '--kpi', 'converted')).stdout,
    ) as {
      arms: { arm: string; units: number }[];
    };
    expect(json.arms.map((a) => a.units)).toEqual([300, 300]);
    const unknownKpi = await slipway('experiment', 'report', 'checkout', '--kpi', 'revenue');
    expect(unknownKpi).toMatchObject({
      code: 3,
      stderr: 'error: no outcomes of KPI "revenue" were ingested (KPIs: converted)\n',
    });
  });
});

describe('slipway outcome send', () => {
  it('stores a label or a KPI event once per outcome id', async () => {
    const label = await slipway('outcome', 'send', '--request-id', 'r1', '--label', '1', '--id', 'cli-1');
    expect(label).toMatchObject({ code: 0, stdout: 'outcome stored\n', stderr: '' });
    const again = await slipway('outcome', 'send', '--request-id', 'r1', '--label', '1', '--id', 'cli-1');
    expect(again).toMatchObject({ code: 0, stdout: 'already stored (same outcome id)\n' });
    const kpi = await slipway(
      '--json',
      'outcome',
      'send',
      '--unit',
      'u1',
      '--deployment',
      'fraud',
      '--kpi',
      'revenue',
      '--value',
      '12.5',
    );
    expect(JSON.parse(kpi.stdout)).toEqual({ accepted: 1, duplicates: 0 });
    const report = await slipway('--json', 'experiment', 'report', 'checkout', '--kpi', 'revenue');
    const arms = (JSON.parse(report.stdout) as { arms: { arm: string; mean: number }[] }).arms;
    expect(arms.find((a) => a.arm === 'treatment')!.mean).toBeCloseTo(12.5 / 300, 12);
    const bad = await slipway('outcome', 'send', '--unit', 'u1', '--kpi', 'converted');
    expect(bad).toMatchObject({
      code: 2,
      stderr: 'error: --unit needs --deployment (the deployment of the experiment)\n',
    });
  });
});

describe('command-line parsing', () => {
  it('reads durations in seconds, minutes, hours and days', () => {
    expect([
      parseDuration('90s', 'x'),
      parseDuration('15m', 'x'),
      parseDuration('1h', 'x'),
      parseDuration('7d', 'x'),
    ]).toEqual([90, 900, 3_600, 604_800]);
    expect(parseDuration('3600', 'x')).toBe(3_600);
    for (const bad of ['0', '1.5h', '-1h', 'h', '1w', ''])
      expect(() => parseDuration(bad, '--window')).toThrow(UsageError);
  });

  it('builds outcomes: a label, or a KPI event worth 1 by default', () => {
    expect(buildOutcome({ requestId: 'r1', label: '0' })).toEqual({
      outcomeId: '',
      requestId: 'r1',
      unitKey: '',
      deployment: '',
      label: 0,
      kpi: '',
      value: 0,
      time: undefined,
    });
    expect(
      buildOutcome({ unit: 'u4', deployment: 'fraud', kpi: 'converted', time: '2030-01-01T00:00:00Z' }),
    ).toMatchObject({
      unitKey: 'u4',
      kpi: 'converted',
      value: 1,
      time: new Date('2030-01-01T00:00:00Z'),
    });
    expect(() => buildOutcome({ label: '1' })).toThrow(
      'name what the outcome belongs to: --request-id or --unit',
    );
    expect(() => buildOutcome({ requestId: 'r1' })).toThrow('send a --label or a --kpi');
    expect(() => buildOutcome({ requestId: 'r1', label: 'yes' })).toThrow('--label "yes" is not a number');
    expect(() => buildOutcome({ requestId: 'r1', kpi: 'k', time: 'noon' })).toThrow(
      '--time "noon" is not a time',
    );
  });
});
