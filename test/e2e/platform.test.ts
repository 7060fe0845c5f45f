// `slipway up` (what `npm start` runs): the registry and a worker as supervised processes, the
// demo model trained, registered and deployed on first run, predictions over the Open Inference
// Protocol, a crashed child restarted, and a clean stop on SIGINT.
import path from 'node:path';
import { inference } from '@slipway/contracts';
import { createClient } from '@slipway/service-kit';
import { createTempDir, ensureBuilt, repoRoot, startApp, useAppHarness } from '@slipway/testing';
import { beforeAll, describe, expect, it } from 'vitest';

useAppHarness();

beforeAll(async () => {
  for (const project of ['apps/registry', 'apps/worker', 'tools/train', 'apps/cli'])
    await ensureBuilt(project);
});

describe('slipway up', () => {
  it('starts the platform with the demo model deployed and serving, and stops cleanly', async () => {
    const dir = await createTempDir('slipway-up-');
    const up = await startApp({
      name: 'slipway-up',
      entry: path.join(repoRoot, 'apps/cli/dist/bin.js'),
      args: ['up', '--data-dir', dir.path, '--registry-addr', '127.0.0.1:0', '--worker-port', '0'],
      telemetry: false,
      waitUntil: 'spawned',
    });
    await up.waitForLog((line) => line.text.includes('Slipway is up.'), 120_000);
    const workerLine = up.logs().find((line) => /^\s+worker-1\s+127\.0\.0\.1:\d+/.test(line));
    const workerAddress = /127\.0\.0\.1:\d+/.exec(workerLine ?? '')![0];
    const client = createClient(inference.GRPCInferenceServiceService, workerAddress);
    try {
      // The worker loads what the registry assigns: wait until the demo model is ready.
      for (let i = 0; i < 100; i++) {
        const { ready } = await client.modelReady({ name: 'fraud', version: '' });
        if (ready) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const features = [120, 2, 0.9, 800, 6, 1, 30, 40]; // a risky night-time foreign purchase
      const safe = [12, 14, 0.01, 2, 0, 0, 2000, 40];
      const response = await client.modelInfer(
        inference.ModelInferRequest.fromPartial({
          modelName: 'fraud',
          id: 'e2e-1',
          inputs: [
            {
              name: 'input',
              datatype: 'FP32',
              shape: [2n, 8n],
              contents: { fp32Contents: [...features, ...safe] },
            },
          ],
        }),
      );
      expect(response).toMatchObject({ modelName: 'fraud', modelVersion: '1', id: 'e2e-1' });
      const [risky, benign] = response.outputs[0]!.contents!.fp32Contents;
      expect(risky!).toBeGreaterThan(benign!);
      expect(risky! > 0 && risky! < 1 && benign! > 0 && benign! < 1).toBe(true);
    } finally {
      client.close();
    }
    expect(await up.stop('SIGINT', 20_000)).toMatchObject({ code: 0, timedOut: false });
  });
});
