import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { registry } from '@slipway/contracts';
import { decodeProfile, fit, parseFitted, transformRow } from '@slipway/features';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { runTrainCli } from './cli.js';
import { createDemoDataSource } from './data-source.js';
import { DEMO_FEATURE_SET_SPEC } from './demo-feature-set.js';
import { trainDemoModel } from './demo-pipeline.js';
import { runOnnx } from './onnx-check.js';
import type { ModelRegistrar } from './register.js';
import { timeSplit } from './split.js';

const DEMO_COLUMNS = [
  'amount__standardize',
  'hour__bucket',
  'merchant_risk__standardize',
  'distance_km__standardize',
  'tx_count_24h__standardize',
  'is_foreign',
  'account_age_days__standardize',
  'avg_amount_30d__standardize',
];

/** Records what the CLI would have sent the registry. */
function fakeRegistrar() {
  const calls: {
    headers: registry.RegisterModelVersionRequest_Header[];
    artifacts: Uint8Array[];
    deployed: string[];
    closed: number;
  } = { headers: [], artifacts: [], deployed: [], closed: 0 };
  const registrar: ModelRegistrar = {
    async register(header, artifact) {
      calls.headers.push(header);
      calls.artifacts.push(artifact);
      return registry.ModelVersion.fromPartial({ model: header.model, version: calls.headers.length });
    },
    async deploy(name, version) {
      calls.deployed.push(`${name}→${version.model}@${version.version}`);
      return 1n;
    },
    close() {
      calls.closed++;
    },
  };
  return { calls, registrar };
}

describe('demo pipeline on libs/features', () => {
  it('feeds the model the transformed vector: transform(raw row) in onnxruntime equals the trainer', async () => {
    const trained = await trainDemoModel({ rows: 6_000, seed: 11 });
    expect(trained.columns).toEqual(DEMO_COLUMNS);
    expect(trained.evaluation.holdout.auc).toBeGreaterThan(0.7);
    expect(trained.maxOnnxDeviation).toBeLessThanOrEqual(1e-6);
    // What the feature service will do: parse the registered bytes, transform one raw row.
    const served = parseFitted(trained.featureSetJson);
    expect(served.contentHash).toBe(trained.fitted.contentHash);
    const risky = {
      userId: 'u1',
      amount: 120,
      hourOfDay: 2,
      merchantRisk: 0.9,
      distanceKm: 800,
      txCount24h: 6,
      isForeign: 1,
      accountAgeDays: 30,
      avgAmount30d: 40,
    };
    const safe = {
      ...risky,
      amount: 12,
      hourOfDay: 14,
      merchantRisk: 0.01,
      distanceKm: 2,
      txCount24h: 0,
      isForeign: 0,
      accountAgeDays: 2_000,
    };
    // A row with gaps takes the imputed values, as the feature service would report DEFAULTED.
    const sparse = { userId: 'u2', amount: null, hourOfDay: 23 };
    const raws = [risky, safe, sparse];
    const vectors = raws.map((r) => transformRow(served, r));
    const onnx = await runOnnx(trained.onnx, Float32Array.from(vectors.flatMap((v) => [...v])), raws.length);
    const own = trained.predictRows(raws);
    for (let i = 0; i < raws.length; i++) expect(Math.abs(onnx[i]! - own[i]!)).toBeLessThanOrEqual(1e-6);
    expect(own[0]!).toBeGreaterThan(own[1]!);
    expect(vectors[0]![1]).toBe(0); // 2 a.m. is in the night bucket
  });

  it('registers lineage whose feature-set hash is fit(spec, training rows).contentHash, and writes --out', async () => {
    const dir = await createTempDir('train-demo-');
    const { calls, registrar } = fakeRegistrar();
    const printed: string[] = [];
    const code = await runTrainCli(
      [
        'demo',
        '--rows',
        '4000',
        '--seed',
        '7',
        '--deploy',
        'fraud',
        '--out',
        dir.path,
        '--parent',
        '3',
        '--json',
      ],
      {
        stdout: (t) => printed.push(t),
        stderr: (t) => printed.push(t),
        env: { SLIPWAY_CODE_VERSION: 'test-sha' },
        createRegistrar: () => registrar,
      },
    );
    expect(code, printed.join('\n')).toBe(0);
    expect(calls.closed).toBe(1);
    expect(calls.deployed).toEqual(['fraud→fraud@1']);

    // Independently: the same rows, the same time split, the same spec.
    const data = await createDemoDataSource({ rows: 4_000, seed: 7 }).load();
    const split = timeSplit(data.time!.epochMs, 0.2);
    const expected = fit(
      DEMO_FEATURE_SET_SPEC,
      Array.from(split.train, (i) => data.rows[i]!),
    );
    const [header] = calls.headers;
    const lineage = header!.lineage!;
    expect(lineage.featureSet).toEqual({
      name: 'demo_transactions',
      version: 1,
      contentHash: expected.contentHash,
    });
    expect(header!.sha256).toBe(createHash('sha256').update(calls.artifacts[0]!).digest('hex'));
    expect(lineage.codeVersion).toBe('test-sha');
    expect(lineage.parentVersion).toBe(3);
    expect(lineage.dataSnapshot).toMatchObject({
      rowCount: 4_000n,
      location: 'generated:demo-transactions?seed=7&rows=4000',
    });
    expect(lineage.dataSnapshot!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(lineage.dataSnapshot!.startTime!.getTime()).toBeLessThan(lineage.dataSnapshot!.endTime!.getTime());
    expect(lineage.params).toMatchObject({
      algorithm: 'logreg',
      seed: 7,
      split: {
        kind: 'time',
        holdout: 0.2,
        trainRows: split.train.length,
        cutoff: split.cutoff!.toISOString(),
      },
      input: { name: 'input', output: 'probability', width: 8, columns: DEMO_COLUMNS },
    });
    expect(lineage.metrics.map((m) => `${m.dataset}/${m.name}`)).toEqual(
      expect.arrayContaining([
        'holdout/auc',
        'holdout/log_loss',
        'holdout/accuracy',
        'holdout/ece',
        'train/auc',
      ]),
    );
    const profile = decodeProfile(lineage.referenceProfile);
    expect(profile.featureSet.contentHash).toBe(expected.contentHash);
    expect(profile.rowCount).toBe(split.train.length);
    expect(profile.prediction?.count).toBe(split.train.length);
    // The registry message survives a protobuf round trip (params as a Struct).
    const decoded = registry.Lineage.decode(registry.Lineage.encode(lineage).finish());
    expect(decoded.params).toEqual(lineage.params);

    const read = (name: string) => readFile(path.join(dir.path, name));
    const featureSetText = (await read('feature-set.json')).toString('utf8');
    expect(parseFitted(featureSetText).contentHash).toBe(expected.contentHash);
    expect(new Uint8Array(await read('model.onnx'))).toEqual(calls.artifacts[0]);
    const metrics = JSON.parse((await read('metrics.json')).toString('utf8'));
    expect(metrics.input.columns).toEqual(DEMO_COLUMNS);
    expect(metrics.holdout.reliability).toHaveLength(10);
    expect(metrics.holdout.ece).toBeGreaterThanOrEqual(0);
    const lineageJson = registry.Lineage.fromJSON(JSON.parse((await read('lineage.json')).toString('utf8')));
    expect(lineageJson.featureSet).toEqual(lineage.featureSet);
    expect(lineageJson.referenceProfile).toEqual(lineage.referenceProfile);
    const summary = JSON.parse(printed.at(-1)!);
    expect(summary).toMatchObject({
      registered: 'fraud@1',
      deployed: 'fraud (revision 1)',
      columns: DEMO_COLUMNS,
    });
  });

  it('is deterministic: same seed, same model bytes, feature set, snapshot and metrics', async () => {
    const a = await trainDemoModel({
      rows: 3_000,
      seed: 5,
      algorithm: 'gbt',
      algorithmOptions: { gbt: { nEstimators: 30 } },
    });
    const b = await trainDemoModel({
      rows: 3_000,
      seed: 5,
      algorithm: 'gbt',
      algorithmOptions: { gbt: { nEstimators: 30 } },
    });
    const sha = (x: Uint8Array) => createHash('sha256').update(x).digest('hex');
    expect(sha(a.onnx)).toBe(sha(b.onnx));
    expect(a.featureSetJson).toBe(b.featureSetJson);
    expect(a.snapshot).toEqual(b.snapshot);
    expect(a.metrics).toEqual(b.metrics);
    expect(sha(a.referenceProfile)).toBe(sha(b.referenceProfile));
    expect(a.maxOnnxDeviation).toBeLessThanOrEqual(1e-6);
  });
});
