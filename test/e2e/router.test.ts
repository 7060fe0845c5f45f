// The router as the platform's front door, with every other part a real process: releases under
// continuous load (blue-green promote and rollback, canary weights, a worker SIGKILLed) with zero
// failed requests, sticky A/B assignment across router replicas and restarts, shadow traffic
// recorded in the monitor, serving through a registry outage, and one trace per prediction.
import { inference, monitor, serving } from '@slipway/contracts';
import { createClient, type ServiceClient } from '@slipway/service-kit';
import { startOtlpReceiver, useAppHarness, type OtlpReceiver, demoTransaction } from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failures, sleep, startLoad, until } from './support/load.js';
import { buildPlatform, startPlatform, TOKEN, type Platform } from './support/platform.js';

useAppHarness();

type Prediction = ServiceClient<typeof serving.PredictionServiceService>;

beforeAll(async () => {
  await buildPlatform();
}, 300_000);

const transaction = demoTransaction;

function predictionClient(address: string): Prediction {
  return createClient(serving.PredictionServiceService, address, { defaultDeadlineMs: 10_000 });
}

/** Waits until the router answers a version-pinned Predict for `version`. */
async function untilServing(client: Prediction, version: number): Promise<void> {
  await until(`version ${version} served through the router`, async () => {
    try {
      await client.predict({ ...transaction(1), version });
      return true;
    } catch {
      return false;
    }
  });
}

describe('router: releases under continuous load', () => {
  let platform: Platform;
  let client: Prediction;

  beforeAll(async () => {
    platform = await startPlatform({ workers: 2, routers: 1 });
    client = predictionClient(platform.routers[0]!.address);
    await untilServing(client, 1);
  }, 180_000);
  afterAll(async () => {
    client?.close();
    await platform?.stop();
  });

  it('promote, rollback, canary weights and a SIGKILLed worker cause zero failed requests', async () => {
    const v2 = await platform.copyVersion();
    const load = startLoad(8, (i) => client.predict(transaction(i)));
    await sleep(500);

    // Blue-green: v2 loads and is smoke-checked at 0%, then one revision moves all traffic.
    await platform.cli('deploy', 'fraud', '--version', String(v2), '--strategy', 'blue-green');
    await untilServing(client, v2);
    await sleep(300);
    await platform.cli('promote', 'fraud');
    const promotedAt = performance.now();
    await sleep(1000);
    await platform.cli('rollback', 'fraud');
    const rolledBackAt = performance.now();
    await sleep(1000);

    // Canary weights by hand.
    await platform.cli(
      'deploy',
      'fraud',
      '--version',
      String(v2),
      '--strategy',
      'canary',
      '--steps',
      '10,50,100',
    );
    await sleep(800);
    await platform.cli('canary', 'set-weight', 'fraud', '50');
    await sleep(800);
    const before = load.outcomes.length;
    await platform.cli('canary', 'set-weight', 'fraud', '80');
    const weightAt = performance.now();
    await sleep(1500);
    const after = load.outcomes.length;

    // One of the two worker replicas dies mid-load.
    await platform.workers[1]!.kill();
    await sleep(2000);
    const outcomes = await load.stop();

    expect(failures(outcomes)).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(200);
    // Once promote was acknowledged no request was answered by the old version, and once the
    // rollback was, none by the new one.
    const between = (from: number, to: number) => outcomes.filter((o) => o.start > from && o.end < to);
    const afterPromote = between(promotedAt, rolledBackAt - 1000);
    expect(afterPromote.length).toBeGreaterThan(10);
    expect(new Set(afterPromote.map((o) => o.value!.version))).toEqual(new Set([v2]));
    const afterRollback = outcomes.filter((o) => o.start > rolledBackAt && o.end < rolledBackAt + 900);
    expect(new Set(afterRollback.map((o) => o.value!.version))).toEqual(new Set([1]));
    // At 80% the candidate answers most requests.
    const at80 = outcomes.slice(before, after).filter((o) => o.start > weightAt);
    const share = at80.filter((o) => o.value!.version === v2).length / at80.length;
    expect(share).toBeGreaterThan(0.6);
  }, 120_000);
});

describe('router: A/B, shadow, registry outage and tracing', () => {
  let platform: Platform;
  let otlp: OtlpReceiver;
  let clients: Prediction[];
  let v2: number;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    platform = await startPlatform({
      workers: 1,
      routers: 2,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.grpcEndpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    clients = platform.routers.map((r) => predictionClient(r.address));
    await untilServing(clients[0]!, 1);
    await untilServing(clients[1]!, 1);
    v2 = await platform.copyVersion();
  }, 180_000);
  afterAll(async () => {
    for (const c of clients ?? []) c.close();
    await platform?.stop();
    await otlp?.close();
  });

  it('assigns A/B arms by unit: the same on two router replicas and after a restart, shares within 2 points', async () => {
    await platform.cli(
      'experiment',
      'start',
      'checkout-ab',
      '--deployment',
      'fraud',
      '--arm',
      `control=1:50`,
      '--arm',
      `treatment=${v2}:50`,
      '--unit',
      'userId',
    );
    await untilServing(clients[0]!, v2);
    const units = Array.from({ length: 10_000 }, (_, i) => `unit-${i}`);
    const assign = async (c: Prediction): Promise<string[]> => {
      const arms: string[] = [];
      for (let i = 0; i < units.length; i += 500) {
        const { responses } = await c.predictBatch({
          requests: units.slice(i, i + 500).map((u) => ({ ...transaction(i), entityKeys: { userId: u } })),
        });
        for (const r of responses) {
          expect(r.experiment).toBe('checkout-ab');
          arms.push(r.variant);
        }
      }
      return arms;
    };
    const first = await assign(clients[0]!);
    const second = await assign(clients[1]!);
    expect(second).toEqual(first);
    const treatment = first.filter((a) => a === 'treatment').length / units.length;
    expect(Math.abs(treatment - 0.5)).toBeLessThan(0.02);
    // A single Predict agrees with the batch form.
    const one = await clients[1]!.predict({ ...transaction(3), entityKeys: { userId: units[3]! } });
    expect(one.variant).toBe(first[3]);

    await platform.routers[0]!.restart();
    clients[0]!.close();
    clients[0] = predictionClient(platform.routers[0]!.address);
    await untilServing(clients[0]!, v2);
    expect(await assign(clients[0]!)).toEqual(first);
    await platform.cli('experiment', 'stop', 'checkout-ab', '--winner', 'control');
  }, 120_000);

  it('shadow: primary answers unchanged, shadow answers recorded for the sampled share', async () => {
    const requests = Array.from({ length: 400 }, (_, i) => transaction(i));
    const pinned = await Promise.all(requests.map((r) => clients[0]!.predict({ ...r, version: 1 })));
    await platform.cli('shadow', 'start', 'fraud', '--version', String(v2), '--sample', '0.5');
    const answers = [];
    for (const r of requests) answers.push(await clients[0]!.predict(r));
    expect(answers.map((a) => a.version)).toEqual(requests.map(() => 1));
    expect(answers.map((a) => a.scores)).toEqual(pinned.map((p) => p.scores));
    const ids = new Set(answers.map((a) => a.requestId));

    const monitorClient = createClient(monitor.MonitorServiceService, platform.monitor!.address, {
      token: TOKEN,
    });
    try {
      let shadows: monitor.PredictionRecord[] = [];
      await until('shadow records in the monitor', async () => {
        const { records } = await monitorClient.listPredictions({
          deployment: 'fraud',
          variant: '',
          requestId: '',
          limit: 10_000,
          shadow: true,
        });
        shadows = records.filter((r) => ids.has(r.requestId));
        // Records leave the router in batches; wait until the count stops growing.
        return shadows.length > 140 && (await sleep(500).then(() => true));
      });
      const { records } = await monitorClient.listPredictions({
        deployment: 'fraud',
        variant: '',
        requestId: '',
        limit: 10_000,
        shadow: true,
      });
      shadows = records.filter((r) => ids.has(r.requestId));
      // Binomial(400, 0.5): 200 ± 10; 140..260 is six standard deviations.
      expect(shadows.length).toBeGreaterThan(140);
      expect(shadows.length).toBeLessThan(260);
      for (const s of shadows) {
        expect(s.version).toBe(v2);
        expect(s.status).toBe('OK');
        // The same model and features: the shadow's answer equals the primary's.
        const primary = answers.find((a) => a.requestId === s.requestId)!;
        expect(s.outputs[0]).toBeCloseTo(primary.scores[0]!, 6);
      }
    } finally {
      monitorClient.close();
    }
    await platform.cli('shadow', 'stop', 'fraud');
  }, 120_000);

  it('one trace per Predict: router → features → worker, with Slipway attributes', async () => {
    otlp.clear();
    const answer = await clients[1]!.predict(transaction(7));
    const spans = await otlp.waitForSpans((all) => {
      const t = all.filter((s) => s.traceId === answer.requestId);
      return (
        t.some((s) => s.serviceName === 'slipway-router' && s.kind === 'SERVER') &&
        t.some((s) => s.serviceName === 'slipway-features' && s.kind === 'SERVER') &&
        t.some((s) => s.serviceName === 'slipway-worker' && s.kind === 'SERVER')
      );
    });
    const trace = spans.filter((s) => s.traceId === answer.requestId);
    const routerSpan = trace.find((s) => s.serviceName === 'slipway-router' && s.kind === 'SERVER')!;
    expect(routerSpan.attributes['slipway.deployment']).toBe('fraud');
    expect(routerSpan.attributes['slipway.variant']).toBe(answer.variant);
    expect(routerSpan.attributes['slipway.model.version']).toBe(answer.version);
    expect(routerSpan.attributes['slipway.request_id']).toBe(answer.requestId);
    const worker = trace.filter((s) => s.serviceName === 'slipway-worker');
    expect(worker.some((s) => typeof s.attributes['slipway.batch.size'] === 'number')).toBe(true);
    expect(worker.some((s) => typeof s.attributes['slipway.queue.time_ms'] === 'number')).toBe(true);
    // The monitor's ingestion of this prediction's record links back to the request's trace.
    const linked = await otlp.waitForSpans((all) =>
      all.some((s) => s.links.some((l) => l.traceId === answer.requestId)),
    );
    expect(linked.some((s) => s.links.some((l) => l.traceId === answer.requestId))).toBe(true);
  }, 60_000);

  it('answers bad requests with the right status, and serves the Open Inference Protocol by deployment name', async () => {
    const c = clients[0]!;
    await expect(c.predict({ ...transaction(1), deployment: 'nope' })).rejects.toMatchObject({
      code: 5,
      message: expect.stringContaining('deployment "nope" not found'),
    });
    await expect(c.predict({ ...transaction(1), deployment: '' })).rejects.toMatchObject({ code: 3 });
    await expect(c.predict({ ...transaction(1), version: 99 })).rejects.toMatchObject({
      code: 5,
      message: expect.stringContaining('no variant with version 99'),
    });
    await expect(c.predict({ ...transaction(1), entityKeys: {} })).rejects.toMatchObject({ code: 3 });

    const infer = createClient(inference.GRPCInferenceServiceService, platform.routers[0]!.address);
    try {
      const row = new Float32Array([0.1, 0, 0.3, -0.2, 1, 0, 0.5, -1]);
      const request: inference.ModelInferRequest = {
        modelName: 'fraud',
        modelVersion: '',
        id: 'req-1',
        parameters: {},
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1n, 8n], parameters: {}, contents: undefined }],
        outputs: [],
        rawInputContents: [new Uint8Array(row.buffer)],
      };
      const response = await infer.modelInfer(request);
      expect(response.modelName).toBe('fraud');
      expect(response.id).toBe('req-1');
      expect(response.parameters['slipway.variant']?.parameterChoice).toEqual({
        $case: 'stringParam',
        stringParam: 'stable',
      });
      const pinned = await infer.modelInfer({ ...request, modelVersion: '1' });
      expect(pinned.modelVersion).toBe('1');
      expect(Buffer.from(pinned.rawOutputContents[0]!)).toEqual(Buffer.from(response.rawOutputContents[0]!));
      // A version the deployment does not hold (v2 left with the experiment and the shadow).
      await expect(infer.modelInfer({ ...request, modelVersion: String(v2) })).rejects.toMatchObject({
        code: 5,
      });
      await expect(infer.modelInfer({ ...request, modelName: 'nope' })).rejects.toMatchObject({ code: 5 });
      await expect(
        infer.modelInfer({ ...request, inputs: [{ ...request.inputs[0]!, shape: [1n, 7n] }] }),
      ).rejects.toMatchObject({ code: 3 });
      const metadata = await infer.modelMetadata({ name: 'fraud', version: '' });
      expect(metadata.name).toBe('fraud');
      expect(metadata.inputs[0]).toMatchObject({ name: 'input', datatype: 'FP32' });
    } finally {
      infer.close();
    }
  }, 60_000);

  it('a monitor outage never fails a prediction: records are spooled and delivered when it is back', async () => {
    await platform.monitor!.kill();
    const answers = [];
    for (let i = 0; i < 100; i++) answers.push(await clients[0]!.predict(transaction(i)));
    await sleep(500);
    await platform.monitor!.restart();
    const monitorClient = createClient(monitor.MonitorServiceService, platform.monitor!.address, {
      token: TOKEN,
    });
    try {
      const ids = answers.map((a) => a.requestId);
      await until(
        'spooled records delivered to the restarted monitor',
        async () => {
          const found = await Promise.all(
            ids.map((id) =>
              monitorClient
                .listPredictions({ deployment: 'fraud', variant: '', requestId: id, limit: 10 })
                .then((r) => r.records.filter((x) => !x.shadow).length),
            ),
          );
          return found.every((n) => n === 1);
        },
        30_000,
      );
      const { records } = await monitorClient.listPredictions({
        deployment: '',
        variant: '',
        requestId: ids[5]!,
        limit: 10,
      });
      expect(records[0]).toMatchObject({
        deployment: 'fraud',
        status: 'OK',
        source: 'predict',
        entityKeys: { userId: 'u5' },
      });
      expect(records[0]!.features).toHaveLength(8);
      expect(records[0]!.outputs[0]).toBeCloseTo(answers[5]!.scores[0]!, 6);
    } finally {
      monitorClient.close();
    }
  }, 90_000);

  it('keeps serving while the registry is down', async () => {
    await platform.registry.kill();
    const load = startLoad(4, (i) => clients[0]!.predict(transaction(i)));
    await sleep(2000);
    const outcomes = await load.stop();
    expect(failures(outcomes)).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(50);
    // The Open Inference Protocol front door, too.
    const infer = createClient(inference.GRPCInferenceServiceService, platform.routers[1]!.address);
    try {
      const ready = await infer.modelReady({ name: 'fraud', version: '' });
      expect(ready.ready).toBe(true);
    } finally {
      infer.close();
    }
    await platform.registry.restart();
  }, 60_000);
});
