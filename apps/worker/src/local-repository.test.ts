import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildLogisticRegression } from '@slipway/onnx';
import { parseConfig } from '@slipway/service-kit';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { workerConfigSchema } from './config.js';
import { scanModelRepository } from './local-repository.js';
import { addModel } from './testing/fixtures.js';

const config = parseConfig(workerConfigSchema, { SLIPWAY_WORKER_MAX_BATCH_SIZE: '32' });
const model = { bytes: buildLogisticRegression({ weights: [1], bias: 0 }).bytes };

describe('scanModelRepository', () => {
  it('finds every <name>/<version>/model.onnx with its settings, and skips what does not fit', async () => {
    const repo = (await createTempDir('worker-repo-')).path;
    await addModel(repo, 'fraud', 1, model);
    await addModel(repo, 'fraud', 12, model, { maxBatchSize: 8, executor: 'in-process' });
    await addModel(repo, 'churn', 3, model);
    await addModel(repo, 'churn', 'v4', model);
    await mkdir(path.join(repo, 'churn', '5'));
    await mkdir(path.join(repo, 'empty'));
    await writeFile(path.join(repo, 'README.md'), 'models live here');
    await mkdir(path.join(repo, '.git'));

    const scan = await scanModelRepository(repo, config);
    expect(scan.versions.map((v) => [v.name, v.version, v.file])).toEqual([
      ['churn', 3, path.join(repo, 'churn', '3', 'model.onnx')],
      ['fraud', 1, path.join(repo, 'fraud', '1', 'model.onnx')],
      ['fraud', 12, path.join(repo, 'fraud', '12', 'model.onnx')],
    ]);
    expect(scan.versions[0]?.settings).toMatchObject({
      batching: { maxBatchSize: 32 },
      executor: { kind: 'auto' },
    });
    expect(scan.versions[1]?.settings).toMatchObject({
      batching: { maxBatchSize: 8, maxQueueDelayMicros: 500 },
      executor: { kind: 'in-process' },
    });
    expect(scan.skipped).toEqual([
      { path: path.join(repo, 'README.md'), reason: 'not a folder; expected <name>/<version>/model.onnx' },
      { path: path.join(repo, 'churn', '5'), reason: 'no model.onnx in this version folder' },
      {
        path: path.join(repo, 'churn', 'v4'),
        reason: 'version folders must be named by a positive integer (1, 2, ...)',
      },
      { path: path.join(repo, 'empty'), reason: 'no <version>/model.onnx inside' },
    ]);
  });

  it('keeps the versions of a model with an invalid config.json, carrying the reason', async () => {
    const repo = (await createTempDir('worker-repo-')).path;
    await addModel(repo, 'fraud', 1, model, { maxBatchSize: 'lots', colour: 'red' });
    await addModel(repo, 'churn', 1, model);
    await writeFile(path.join(repo, 'churn', 'config.json'), '{ not json');
    const scan = await scanModelRepository(repo, config);
    const errors = Object.fromEntries(
      scan.versions.map((v) => [v.name, 'error' in v.settings ? v.settings.error : undefined]),
    );
    expect(errors['fraud']).toMatch(/config\.json is invalid \(maxBatchSize: .*; \(file\): .*colour.*\)/);
    expect(errors['churn']).toMatch(/config\.json is not valid JSON/);
  });

  it('fails when the repository itself cannot be read', async () => {
    await expect(scanModelRepository('/nonexistent/models', config)).rejects.toThrow(
      /^cannot read the model repository \/nonexistent\/models: ENOENT/,
    );
  });
});
