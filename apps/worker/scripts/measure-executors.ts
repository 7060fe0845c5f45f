// Measures the two executors of @slipway/model-runtime on the benchmark MLPs, to choose the
// worker's default executor. Run from the repo root:
//   npx tsx --conditions @slipway/source apps/worker/scripts/measure-executors.ts
import { availableParallelism, cpus } from 'node:os';
import { inference } from '@slipway/contracts';
import { benchExecutors, type BatcherOptions, type ExecutorOptions } from '@slipway/model-runtime';
import { buildMlp, MLP_PRESETS } from '@slipway/onnx';

const durationMs = Number(process.env['MEASURE_DURATION_MS'] ?? 5000);
const concurrency = Number(process.env['MEASURE_CONCURRENCY'] ?? 64);
const executors: ExecutorOptions[] = [
  { kind: 'in-process' },
  { kind: 'worker-threads', threads: 1 },
  { kind: 'worker-threads', threads: 2 },
];
const batchings: [string, BatcherOptions | undefined][] = [
  ['off', undefined],
  ['64 / 500 us', { maxBatchSize: 64, maxQueueDelayMicros: 500 }],
];

function request(inputSize: number): inference.ModelInferRequest {
  const data = Array.from({ length: inputSize }, (_, i) => Math.sin(i));
  return inference.ModelInferRequest.fromPartial({
    modelName: 'bench',
    inputs: [
      { name: 'input', datatype: 'FP32', shape: [1n, BigInt(inputSize)], contents: { fp32Contents: data } },
    ],
  });
}

console.log(
  `machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}`,
);
console.log(`concurrency ${concurrency}, ${durationMs} ms per executor, one row per request`);
console.log('| model | batching | executor | req/s | p50 ms | p99 ms | loop delay p50 / p99 / max ms |');
console.log('|---|---|---|---:|---:|---:|---:|');
for (const [label, preset] of [
  ['tiny 30-64-64-1', MLP_PRESETS.tiny],
  ['heavy 256-1024x3-1', MLP_PRESETS.heavy],
] as const) {
  const mlp = buildMlp(preset);
  for (const [batchLabel, batching] of batchings) {
    const results = await benchExecutors({
      bytes: mlp.bytes,
      request: request(mlp.inputSize),
      durationMs,
      concurrency,
      executors,
      ...(batching ? { batching } : {}),
    });
    for (const r of results) {
      const d = r.eventLoopDelayMs;
      console.log(
        `| ${label} | ${batchLabel} | ${r.executor} | ${r.throughputPerSecond.toFixed(0)} | ${r.latencyMs.p50.toFixed(2)} | ${r.latencyMs.p99.toFixed(2)} | ${d.p50.toFixed(2)} / ${d.p99.toFixed(2)} / ${d.max.toFixed(2)} |`,
      );
    }
  }
}
