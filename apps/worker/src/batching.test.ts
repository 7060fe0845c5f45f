// Dynamic batching over gRPC, in the built worker run as apps run (`node --import
// @slipway/telemetry/register`), exporting spans to an in-process OTLP receiver and metrics on its
// Prometheus endpoint: concurrent calls are merged into batches and answer as if run alone.
import path from 'node:path';
import { inference } from '@slipway/contracts';
import { buildMlp, MLP_PRESETS } from '@slipway/onnx';
import { createClient } from '@slipway/service-kit';
import {
  createTempDir,
  ensureBuilt,
  repoRoot,
  startApp,
  startOtlpReceiver,
  useAppHarness,
  type OtlpReceiver,
  type OtlpSpan,
} from '@slipway/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addModel } from './testing/fixtures.js';
import { expectTensorClose, makeRequest, readOutput, type PlainTensor } from '@slipway/testing';

const CALLS = 64;
const mlp = buildMlp(MLP_PRESETS.tiny);

useAppHarness();
let receiver: OtlpReceiver;
beforeAll(async () => {
  await ensureBuilt('apps/worker');
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver?.close());

const row = (i: number): PlainTensor => ({
  name: 'input',
  datatype: 'FP32',
  shape: [1, mlp.inputSize],
  data: Array.from({ length: mlp.inputSize }, (_, j) => Math.sin(i * 31 + j)),
});

it(`answers ${CALLS} concurrent calls in batches of more than one, as if each ran alone`, async () => {
  const repo = (await createTempDir('worker-batching-')).path;
  // Same bytes twice: one copy batches (waiting up to 20 ms for company), the other runs alone.
  await addModel(repo, 'tiny', 1, { bytes: mlp.bytes }, { maxBatchSize: CALLS, maxQueueDelayMicros: 20_000 });
  await addModel(repo, 'tiny-alone', 1, { bytes: mlp.bytes }, { maxBatchSize: 1 });
  const worker = await startApp({
    name: 'worker',
    entry: path.join(repoRoot, 'apps/worker/dist/main.js'),
    env: {
      SLIPWAY_WORKER_ADDR: '127.0.0.1:0',
      SLIPWAY_WORKER_MODELS: repo,
      SLIPWAY_WORKER_METRICS_ADDR: '127.0.0.1:0',
      OTEL_SERVICE_NAME: 'worker',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.httpEndpoint,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
  });
  const metricsLine = await worker.waitForLog((line) => line.json?.['msg'] === 'metrics endpoint');
  const client = createClient(inference.GRPCInferenceServiceService, worker.address);
  try {
    await worker.waitForLog((line) => line.json?.['msg'] === 'model repository loaded', 30_000);
    const alone: inference.ModelInferResponse[] = [];
    for (let i = 0; i < CALLS; i++) {
      alone.push(
        await client.modelInfer(makeRequest([row(i)], 'typed', { modelName: 'tiny-alone', id: `a${i}` })),
      );
    }
    const batched = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        client.modelInfer(makeRequest([row(i)], 'typed', { modelName: 'tiny', id: `b${i}` })),
      ),
    );
    batched.forEach((response, i) => {
      expect(response.id).toBe(`b${i}`);
      expectTensorClose(readOutput(response, 'output'), readOutput(alone[i]!, 'output'));
    });

    const inferSpans = (spans: OtlpSpan[]): OtlpSpan[] =>
      spans.filter((s) => s.name === 'worker.infer' && s.attributes['slipway.model.name'] === 'tiny');
    const spans = await receiver.waitForSpans((all) => inferSpans(all).length === CALLS);
    const sizes = inferSpans(spans).map((s) => Number(s.attributes['slipway.batch.size']));
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(CALLS);

    // Each worker.infer span is a child of the gRPC server span, which carries the same facts.
    const one = inferSpans(spans)[0]!;
    const parent = spans.find((s) => s.spanId === one.parentSpanId);
    expect(parent).toMatchObject({ kind: 'SERVER', name: 'inference.GRPCInferenceService/ModelInfer' });
    expect(parent!.attributes).toMatchObject({
      'slipway.model.name': 'tiny',
      'slipway.model.version': '1',
      'slipway.batch.size': one.attributes['slipway.batch.size'],
    });
    expect(typeof parent!.attributes['slipway.queue.time_ms']).toBe('number');
    expect(typeof parent!.attributes['slipway.inference.time_ms']).toBe('number');
    expect(one.events.map((e) => e.name)).toEqual(['session.run']);

    const metrics = await (await fetch(`http://${String(metricsLine.json!['address'])}/metrics`)).text();
    expect(metrics).toMatch(/slipway_worker_requests_total\{[^}]*model="tiny"[^}]*code="OK"[^}]*\} 64/);
    expect(metrics).toMatch(/slipway_worker_requests_total\{[^}]*model="tiny-alone"[^}]*\} 64/);
    expect(metrics).toMatch(/slipway_worker_batch_size_bucket\{[^}]*model="tiny"[^}]*le="1"\} \d+/);
    expect(metrics).toMatch(/slipway_worker_in_flight\{[^}]*model="tiny"[^}]*\} 0/);
  } finally {
    client.close();
    await worker.stop();
  }
});
