// GetDrift (and the registry-dependent parts of the other reports) over real gRPC, with a real
// registry process holding the model versions, their reference profiles and the deployment.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { registry, type monitor } from '@slipway/contracts';
import { FailedPreconditionError, NotFoundError } from '@slipway/errors';
import { DRIFT_DEFAULTS } from '@slipway/monitoring';
import {
  buildProfile,
  encodeProfile,
  fit,
  transform,
  type FeatureSetSpec,
  type FittedFeatureSet,
} from '@slipway/features';
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
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { predictionRecord, startMonitor, type RunningMonitor } from '../testing/fixtures.js';

useAppHarness();

const TOKEN = 'registry-deployer';
const MINUTE = 60_000;

const spec: FeatureSetSpec = {
  name: 'fraud-features',
  version: 1,
  entityKeys: ['user_id'],
  features: [
    { name: 'amount', source: { field: 'amount' }, kind: 'numeric', transforms: [] },
    { name: 'country', source: { field: 'country' }, kind: 'categorical', transforms: [{ type: 'one-hot' }] },
  ],
};

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Rows like the training data, with `shift` added to amount and `deShare` of them from DE. */
function rows(count: number, seed: number, shift = 0, deShare = 0.3) {
  const random = createSeededRandom(seed);
  return Array.from({ length: count }, () => ({
    amount: random.normal() + shift,
    country: random.next() < deShare ? 'DE' : 'FR',
  }));
}

let fitted: FittedFeatureSet;
let registryApp: RunningApp;
let running: RunningMonitor | undefined;

beforeAll(async () => {
  await ensureBuilt('apps/registry');
  const dir = await createTempDir('monitor-drift-');
  registryApp = await startApp({
    name: 'registry',
    entry: path.join(repoRoot, 'apps/registry/dist/main.js'),
    env: {
      SLIPWAY_REGISTRY_ADDR: '127.0.0.1:0',
      SLIPWAY_REGISTRY_DATA_DIR: dir.path,
      SLIPWAY_REGISTRY_TOKENS: `${TOKEN}=ci:deployer`,
    },
  });
  const training = rows(5_000, 1);
  fitted = fit(spec, training);
  const predictions = training.map((r) => sigmoid(r.amount));
  const profile = buildProfile(fitted, transform(fitted, training), predictions);
  const models = createClient(registry.ModelServiceService, registryApp.address, { token: TOKEN });
  const deployments = createClient(registry.DeploymentServiceService, registryApp.address, { token: TOKEN });
  try {
    const bytes = buildLogisticRegression({ weights: [0.5, -1], bias: 0.1 }).bytes;
    // Version 1 with its reference profile, version 2 without one.
    for (const referenceProfile of [encodeProfile(profile), new Uint8Array()]) {
      await uploadModelVersion(
        models,
        {
          model: 'fraud',
          sha256: createHash('sha256').update(bytes).digest('hex'),
          size: BigInt(bytes.length),
          lineage: registry.Lineage.fromPartial({ referenceProfile }),
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
    await deployments.applyDeployment({
      deployment: { ...deployment, decisionThreshold: 0.3 },
      expectedRevision: 0n,
      reason: 'test',
    });
  } finally {
    models.close();
    deployments.close();
  }
}, 120_000);

afterAll(async () => {
  await registryApp?.stop();
});

afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** Records of the stable variant (fraud@1) for serving rows, over the last half hour. */
function served(
  serving: { amount: number; country: string }[],
  overrides: Partial<monitor.PredictionRecord> = {},
): monitor.PredictionRecord[] {
  const { matrix } = transform(fitted, serving);
  const width = fitted.columns.length;
  const now = Date.now();
  return serving.map((row, i) =>
    predictionRecord(i, {
      requestId: `r${i}`,
      model: 'fraud',
      version: 1,
      time: new Date(now - 30 * MINUTE + i),
      features: Array.from(matrix.subarray(i * width, (i + 1) * width)),
      outputs: [sigmoid(row.amount)],
      featureSetHash: fitted.contentHash,
      ...overrides,
    }),
  );
}

async function ingest(records: monitor.PredictionRecord[]): Promise<void> {
  await running!.deployer.ingestPredictions([{ records }]);
}

const drift = (request: Partial<monitor.GetDriftRequest> = {}) =>
  running!.reader.getDrift({ deployment: 'fraud', variant: '', windowSeconds: 0, ...request });

describe('GetDrift', () => {
  it('finds no drift in data like the training data', async () => {
    running = await startMonitor({ SLIPWAY_REGISTRY_ADDR: registryApp.address });
    await ingest(served(rows(2_000, 2)));
    const report = await drift();
    expect(report).toMatchObject({
      deployment: 'fraud',
      variant: 'stable',
      model: 'fraud',
      version: 1,
      samples: 2_000n,
      drifted: false,
      correction: 'benjamini-hochberg',
    });
    expect(report.features.map((f) => [f.feature, f.method, f.status, f.samples])).toEqual([
      ['amount', 'ks+psi', 'ok', 2_000n],
      ['country', 'chi2+jensen_shannon', 'ok', 2_000n],
    ]);
    expect(report.prediction).toMatchObject({
      feature: 'prediction',
      method: 'ks+psi',
      status: 'ok',
      threshold: DRIFT_DEFAULTS.psiThreshold,
    });
    expect(report.features[1]!.threshold).toBe(DRIFT_DEFAULTS.jensenShannonThreshold);
    expect(report.windowEnd!.getTime() - report.windowStart!.getTime()).toBe(3_600_000);
  });

  it('flags a shifted numeric feature and the predictions it moves, and only those', async () => {
    running = await startMonitor({ SLIPWAY_REGISTRY_ADDR: registryApp.address });
    await ingest(served(rows(2_000, 3, 1)));
    const report = await drift();
    expect(report.drifted).toBe(true);
    const [amount, country] = report.features;
    expect(amount).toMatchObject({ feature: 'amount', status: 'drift' });
    expect(amount!.pValue).toBeLessThan(1e-6);
    expect(amount!.psi).toBeGreaterThan(0.2);
    expect(country).toMatchObject({ feature: 'country', status: 'ok' });
    expect(report.prediction!.status).toBe('drift');
  });

  it('flags a shifted category mix', async () => {
    running = await startMonitor({ SLIPWAY_REGISTRY_ADDR: registryApp.address });
    await ingest(served(rows(2_000, 4, 0, 0.8)));
    const report = await drift();
    expect(report.features.map((f) => [f.feature, f.status])).toEqual([
      ['amount', 'ok'],
      ['country', 'drift'],
    ]);
  });

  it('says insufficient data for a thin window, and leaves out other feature sets and versions', async () => {
    running = await startMonitor({ SLIPWAY_REGISTRY_ADDR: registryApp.address });
    const thin = served(rows(60, 5));
    const otherFeatureSet = served(rows(500, 6, 3)).map((r) => ({
      ...r,
      requestId: `x${r.requestId}`,
      featureSetHash: 'ff'.repeat(32),
    }));
    const otherVersion = served(rows(500, 7, 3)).map((r) => ({
      ...r,
      requestId: `v${r.requestId}`,
      version: 2,
    }));
    await ingest([...thin, ...otherFeatureSet, ...otherVersion]);
    const report = await drift();
    expect(report.samples).toBe(60n);
    expect(report.drifted).toBe(false);
    expect(report.features.map((f) => f.status)).toEqual(['insufficient_data', 'insufficient_data']);
    expect(report.features[0]!.pValue).toBeNaN();
  });

  it('explains what is missing: a registry, a profile, the deployment or the variant', async () => {
    running = await startMonitor();
    await ingest(served(rows(10, 8)));
    const noRegistry = drift();
    await expect(noRegistry).rejects.toThrow(FailedPreconditionError);
    await expect(noRegistry).rejects.toThrow('this monitor has no registry: set SLIPWAY_REGISTRY_ADDR');
    await running.close();

    running = await startMonitor({ SLIPWAY_REGISTRY_ADDR: registryApp.address });
    const noProfile = drift({ variant: 'shadow' });
    await expect(noProfile).rejects.toThrow(FailedPreconditionError);
    await expect(noProfile).rejects.toThrow('model version fraud@2 has no reference profile');
    const noDeployment = drift({ deployment: 'churn' });
    await expect(noDeployment).rejects.toThrow(NotFoundError);
    await expect(noDeployment).rejects.toThrow(
      `the registry at ${registryApp.address} has no deployment "churn"`,
    );
    const noVariant = drift({ variant: 'candidate' });
    await expect(noVariant).rejects.toThrow(NotFoundError);
    await expect(noVariant).rejects.toThrow(
      'deployment "fraud" has no variant "candidate" (variants: stable, shadow)',
    );
  });
});

describe('reports that read the deployment', () => {
  it("use the deployment's decision threshold and its current shadow", async () => {
    running = await startMonitor({ SLIPWAY_REGISTRY_ADDR: registryApp.address });
    const now = Date.now();
    const primary = predictionRecord(1, { requestId: 'a', outputs: [0.35], time: new Date(now - MINUTE) });
    await ingest([
      primary,
      { ...primary, variant: 'shadow', version: 2, shadow: true, outputs: [0.25] },
      // An older shadow variant that is no longer the deployment's.
      { ...primary, variant: 'shadow-old', version: 3, shadow: true, outputs: [0.9] },
      {
        ...predictionRecord(2, { requestId: 'b', time: new Date(now - MINUTE) }),
        variant: 'shadow-old',
        shadow: true,
      },
    ]);
    const shadow = await running.reader.getShadowReport({
      deployment: 'fraud',
      windowSeconds: 0,
      examples: 0,
    });
    expect(shadow).toMatchObject({ shadowVariant: 'shadow', threshold: 0.3, pairs: 1n, agreement: 0 });

    await running.deployer.ingestOutcomes([
      {
        outcomes: [
          {
            outcomeId: '',
            requestId: 'a',
            unitKey: '',
            deployment: '',
            label: 1,
            kpi: '',
            value: 0,
            time: undefined,
          },
        ],
      },
    ]);
    const performance = await running.reader.getPerformance({
      deployment: 'fraud',
      variant: '',
      windowSeconds: 0,
      bucketSeconds: 0,
    });
    // 0.35 is a positive at 0.3 (it would be a negative at 0.5).
    expect(performance.total).toMatchObject({ threshold: 0.3, accuracy: 1, recall: 1 });
  });
});
