import path from 'node:path';
import { conformanceDir, skipWithoutConformance } from '@slipway/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '@slipway/errors';
import { loadModel, type LoadedModel, type LoadModelOptions } from './model-loader.js';
import { ELEM, identityModel } from './testing/tiny-models.js';
import { fromReference, makeRequest, readReferenceTensors, type PlainTensor } from '@slipway/testing';
import { createWorkerPoolExecutor } from './worker-pool-executor.js';

const dir = conformanceDir();
const skip = skipWithoutConformance();

const opened: LoadedModel[] = [];
async function both(options: LoadModelOptions): Promise<[LoadedModel, LoadedModel]> {
  const pair = await Promise.all([
    loadModel({ ...options, executor: { kind: 'in-process' } }),
    loadModel({ ...options, executor: { kind: 'worker-threads', threads: 2 } }),
  ]);
  opened.push(...pair);
  return pair;
}
afterAll(async () => {
  await Promise.all(opened.map((m) => m.close()));
});

describe('executors: in-process and worker threads give identical answers', () => {
  it('runs every datatype identically, typed and raw (raw views are copied, not detached)', async () => {
    const x: PlainTensor = { name: 'x', datatype: 'UINT64', shape: [3], data: [0n, 2n ** 64n - 1n, 5n] };
    const [inProcess, workers] = await both({
      name: 'u64',
      version: '1',
      bytes: identityModel(ELEM.UINT64, ['N']),
    });
    expect(workers.executor).toBe('worker-threads');
    for (const form of ['typed', 'raw', 'raw-unaligned'] as const) {
      const request = makeRequest([x], form);
      const before = request.rawInputContents.map((b) => Buffer.from(b));
      expect(await workers.infer(request)).toEqual(await inProcess.infer(request));
      expect(request.rawInputContents).toEqual(before);
    }
  });

  it('keeps answering while runs are queued beyond the thread count, and with batching', async () => {
    const [inProcess, workers] = await both({
      name: 'f32',
      version: '1',
      bytes: identityModel(ELEM.FLOAT, ['N', 2]),
      batching: { maxBatchSize: 4, maxQueueDelayMicros: 200 },
    });
    const requests = Array.from({ length: 20 }, (_, i) =>
      makeRequest(
        [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [1 + (i % 3), 2],
            data: Array.from({ length: 2 * (1 + (i % 3)) }, (_, j) => i + j),
          },
        ],
        i % 2 ? 'raw' : 'typed',
      ),
    );
    const [a, b] = await Promise.all([
      Promise.all(requests.map((r) => inProcess.infer(r))),
      Promise.all(requests.map((r) => workers.infer(r))),
    ]);
    expect(b).toEqual(a);
  });

  it('drains in-flight runs on close and refuses runs afterwards', async () => {
    const executor = await createWorkerPoolExecutor(identityModel(ELEM.INT32, [2]), {}, { threads: 1 });
    const input = new Map([
      ['x', { datatype: 'INT32' as const, dims: [2], data: Int32Array.of(4, 5), owned: true }],
    ]);
    const runs = [
      executor.run(input, ['y']),
      executor.run(new Map([['x', { datatype: 'INT32' as const, dims: [2], data: Int32Array.of(6, 7) }]]), [
        'y',
      ]),
    ];
    await executor.close();
    const results = await Promise.all(runs);
    expect(results.map((r) => [...(r.outputs['y']?.data as Int32Array)])).toEqual([
      [4, 5],
      [6, 7],
    ]);
    await expect(executor.run(input, ['y'])).rejects.toBeInstanceOf(UnavailableError);
  });

  it.skipIf(skip)('answers the conformance data sets identically', async () => {
    const references = readReferenceTensors(dir as string);
    const chosen = [
      'nn/mnist-8/test_data_set_0',
      'nn/mnist-8/test_data_set_1',
      'nn/mnist-8/test_data_set_2',
      'onnx-node-tests/test_string_concat/test_data_set_0',
      'onnx-node-tests/test_cast_FLOAT_to_FLOAT16/test_data_set_0',
      'onnx-node-tests/test_top_k/test_data_set_0',
      'onnx-node-tests/test_where_example/test_data_set_0',
      'onnx-node-tests/test_ai_onnx_ml_tree_ensemble_single_tree/test_data_set_0',
    ];
    for (const modelPath of new Set(chosen.map((k) => references[k]?.model as string))) {
      const [inProcess, workers] = await both({
        name: 'c',
        version: '1',
        path: path.join(dir as string, 'models', modelPath),
      });
      for (const key of chosen.filter((k) => references[k]?.model === modelPath)) {
        for (const form of ['typed', 'raw'] as const) {
          const request = makeRequest((references[key]?.inputs ?? []).map(fromReference), form);
          expect(await workers.infer(request), key).toEqual(await inProcess.infer(request));
        }
      }
    }
  });
});
