// `slipway up` (what `npm start` runs): the registry, the feature service and a worker as
// supervised processes, the demo model trained from the feature service's historical rows,
// registered and deployed on first run, predictions over the Open Inference
// Protocol, a crashed child restarted, and a clean stop on SIGINT.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { features, inference, registry } from '@slipway/contracts';
import { parseFitted, transformRow } from '@slipway/features';
import { createClient } from '@slipway/service-kit';
import {
  createTempDir,
  ensureBuilt,
  natsServerBinary,
  repoRoot,
  startApp,
  startNatsServer,
  useAppHarness,
  type NatsServer,
} from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './support/load.js';
import { demoEvent, natsClient, predictionOf, publishEvents, readAll, storedCount } from './support/nats.js';

useAppHarness();

beforeAll(async () => {
  for (const project of ['apps/registry', 'apps/features', 'apps/worker', 'tools/train', 'apps/cli'])
    await ensureBuilt(project);
});

describe('slipway up', () => {
  // With nats-server installed, `--nats` also runs the demo stream worker (tx.events → tx.scored).
  let nats: NatsServer | undefined;
  afterAll(async () => {
    await nats?.stop();
  });

  it('starts the platform with the demo model deployed and serving, and stops cleanly', async () => {
    const dir = await createTempDir('slipway-up-');
    if (natsServerBinary()) nats = await startNatsServer();
    else console.warn('nats-server not found: `slipway up` runs without its stream worker here');
    const up = await startApp({
      name: 'slipway-up',
      entry: path.join(repoRoot, 'apps/cli/dist/bin.js'),
      args: [
        'up',
        '--data-dir',
        dir.path,
        '--registry-addr',
        '127.0.0.1:0',
        '--worker-port',
        '0',
        '--features-addr',
        '127.0.0.1:0',
        '--monitor-addr',
        '127.0.0.1:0',
        '--router-addr',
        '127.0.0.1:0',
        ...(nats ? ['--nats', nats.url] : []),
      ],
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
      // The same training run, offline: its fitted feature set turns raw transactions into the
      // model's input, and its ONNX file gives the answers serving must reproduce exactly.
      const offline = path.join(dir.path, 'offline');
      execFileSync(process.execPath, [
        path.join(repoRoot, 'tools/train/dist/main.js'),
        'demo',
        '--no-register',
        '--out',
        offline,
      ]);
      const fitted = parseFitted(readFileSync(path.join(offline, 'feature-set.json')));
      const raw = [
        {
          amount: 950,
          hourOfDay: 2,
          merchantRisk: 0.9,
          distanceKm: 800,
          txCount24h: 6,
          isForeign: 1,
          accountAgeDays: 30,
          avgAmount30d: 40,
        },
        {
          amount: 12,
          hourOfDay: 14,
          merchantRisk: 0.01,
          distanceKm: 2,
          txCount24h: 0,
          isForeign: 0,
          accountAgeDays: 2000,
          avgAmount30d: 40,
        },
      ];
      const vectors = raw.map((row) => transformRow(fitted, row));
      const width = fitted.columns.length;
      const batch = new Float32Array(raw.length * width);
      vectors.forEach((v, i) => batch.set(v, i * width));

      const response = await client.modelInfer(
        inference.ModelInferRequest.fromPartial({
          modelName: 'fraud',
          id: 'e2e-1',
          inputs: [
            {
              name: 'input',
              datatype: 'FP32',
              shape: [2n, BigInt(width)],
              contents: { fp32Contents: [...batch] },
            },
          ],
        }),
      );
      expect(response).toMatchObject({ modelName: 'fraud', modelVersion: '1', id: 'e2e-1' });
      const served = response.outputs[0]!.contents!.fp32Contents;

      const session = await ort.InferenceSession.create(readFileSync(path.join(offline, 'model.onnx')));
      const offlineAnswer = await session.run({ input: new ort.Tensor('float32', batch, [2, width]) });
      await session.release();
      expect(served).toEqual([...(offlineAnswer['probability']!.data as Float32Array)]);
      expect(served[0]!).toBeGreaterThan(served[1]!);

      // The registered version records the feature set it was trained with.
      const registryAddress = /registry\s+(127\.0\.0\.1:\d+)/.exec(up.logs().join('\n'))![1]!;
      const models = createClient(registry.ModelServiceService, registryAddress);
      const { version } = await models.getModelVersion({ model: 'fraud', version: 1, alias: '' });
      models.close();
      expect(version!.lineage!.featureSet!.contentHash).toBe(fitted.contentHash);

      // ...and the feature service holds that feature set, ready to serve the model's inputs.
      const featuresAddress = /features\s+(127\.0\.0\.1:\d+)/.exec(up.logs().join('\n'))![1]!;
      const featureService = createClient(features.FeatureServiceService, featuresAddress);
      const { featureSet } = await featureService.getFeatureSet({ name: 'demo_transactions', version: 1 });
      featureService.close();
      expect(featureSet!.contentHash).toBe(fitted.contentHash);

      // The front door: one Predict from the shell through the router (features → worker).
      const routerAddress = /router\s+(127\.0\.0\.1:\d+)/.exec(up.logs().join('\n'))![1]!;
      const cli = (...args: string[]) =>
        execFileSync(process.execPath, [path.join(repoRoot, 'apps/cli/dist/bin.js'), ...args], {
          env: {
            ...process.env,
            SLIPWAY_DATA_DIR: dir.path,
            SLIPWAY_REGISTRY_ADDR: registryAddress,
            SLIPWAY_ROUTER_ADDR: routerAddress,
          },
          encoding: 'utf8',
        });
      let predicted: { scores: number[]; version: number; variant: string; requestId: string } | undefined;
      for (let i = 0; i < 100 && !predicted; i++) {
        try {
          predicted = JSON.parse(
            cli('predict', 'fraud', '--entity', 'userId=u42', '--value', 'amount=31.5', '--json'),
          );
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      expect(predicted).toMatchObject({ version: 1, variant: 'stable', model: 'fraud' });
      expect(predicted!.requestId).toMatch(/^[0-9a-f]{32}$/);
      expect(predicted!.scores[0]).toBeGreaterThan(0);
      expect(predicted!.scores[0]).toBeLessThan(1);
      expect(cli('status', 'fraud')).toMatch(/router-1/);

      // A crashed child is restarted on the same address, and serving resumes.
      const routerPid = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .find(
          ([, ppid, ...args]) =>
            ppid === String(up.pid) && args.join(' ').includes('apps/router/dist/main.js'),
        )?.[0];
      expect(routerPid).toBeDefined();
      process.kill(Number(routerPid), 'SIGKILL');
      await up.waitForLog((line) => /router\s+\| exited \(SIGKILL\); restarting/.test(line.text), 10_000);
      let again: { version: number } | undefined;
      for (let i = 0; i < 100 && !again; i++) {
        try {
          again = JSON.parse(cli('predict', 'fraud', '--entity', 'userId=u7', '--json'));
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      expect(again).toMatchObject({ version: 1 });
    } finally {
      client.close();
    }
    if (nats) {
      expect(up.logs().some((line) => /^\s+stream-1\s+nats:\/\//.test(line))).toBe(true);
      const client = await natsClient(nats.url);
      try {
        await publishEvents(client, 'tx.events', [demoEvent(42)]);
        await until(
          "the demo stream worker's prediction",
          async () => (await storedCount(client, 'tx.scored')) >= 1,
          30_000,
        );
        const [prediction] = (await readAll(client, 'tx.scored')).map(predictionOf);
        expect(prediction).toMatchObject({
          eventId: 'e42',
          model: 'fraud',
          version: 1,
          entity: { userId: 'u42' },
        });
      } finally {
        await client.close();
      }
    }
    expect(await up.stop('SIGINT', 20_000)).toMatchObject({ code: 0, timedOut: false });
  }, 240_000);
});
