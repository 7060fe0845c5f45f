import path from 'node:path';
import { conformanceDir, skipWithoutConformance } from '@slipway/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnavailableError } from '@slipway/errors';
import { loadModel, type LoadedModel, type LoadModelOptions } from './model-loader.js';
import { ELEM, buildModel } from './testing/tiny-models.js';
import { makeRequest, readOutput, type PlainTensor } from '@slipway/testing';

const opened: LoadedModel[] = [];
async function open(options: LoadModelOptions): Promise<LoadedModel> {
  const model = await loadModel(options);
  opened.push(model);
  return model;
}
afterAll(async () => {
  await Promise.all(opened.map((m) => m.close()));
});

// Waits "forever" for companions: a batch that runs at all proves it was flushed by size or close.
const NEVER = 1e9;

const matrixModel = buildModel({
  inputs: [{ name: 'x', elemType: ELEM.FLOAT, dims: ['N', 'M'] }],
  outputs: [{ name: 'y', elemType: ELEM.FLOAT, dims: ['N', 'M'] }],
  nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
});

function rows(n: number, m: number, seed: number): PlainTensor {
  return {
    name: 'x',
    datatype: 'FP32',
    shape: [n, m],
    data: Array.from({ length: n * m }, (_, i) => seed * 100 + i),
  };
}

describe('dynamic batcher', () => {
  it('answers four concurrent requests in one run when maxBatchSize is 4, without waiting for the delay', async () => {
    const model = await open({
      name: 'm',
      version: '1',
      bytes: matrixModel,
      batching: { maxBatchSize: 4, maxQueueDelayMicros: NEVER },
    });
    const outcomes = await Promise.all(
      [0, 1, 2, 3].map((i) => model.inferWithTiming(makeRequest([rows(1, 2, i)], 'raw'))),
    );
    outcomes.forEach((o, i) => {
      expect(o.timing).toMatchObject({ batchSize: 4, batchRequests: 4 });
      expect(readOutput(o.response, 'y').data).toEqual(rows(1, 2, i).data);
    });
  });

  it('refuses a single request larger than maxBatchSize', async () => {
    const model = await open({
      name: 'm',
      version: '1',
      bytes: matrixModel,
      batching: { maxBatchSize: 4, maxQueueDelayMicros: 100 },
    });
    const attempt = model.infer(makeRequest([rows(5, 2, 0)], 'typed'));
    await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(attempt).rejects.toThrow(
      'batch of 5 rows exceeds the configured maximum 4; split the request',
    );
  });

  it('batches only requests whose non-batch dimensions match', async () => {
    const model = await open({
      name: 'm',
      version: '1',
      bytes: matrixModel,
      batching: { maxBatchSize: 8, maxQueueDelayMicros: 1000 },
    });
    const requests = [rows(1, 2, 0), rows(2, 3, 1), rows(1, 2, 2), rows(1, 3, 3)];
    const outcomes = await Promise.all(requests.map((r) => model.inferWithTiming(makeRequest([r], 'typed'))));
    expect(outcomes.map((o) => [o.timing.batchRequests, o.timing.batchSize])).toEqual([
      [2, 2],
      [2, 3],
      [2, 2],
      [2, 3],
    ]);
    outcomes.forEach((o, i) => expect(readOutput(o.response, 'y')).toEqual({ ...requests[i], name: 'y' }));
  });

  it('runs requests alone when the model has no dynamic batch dimension or the inputs disagree on rows', async () => {
    const fixed = await open({
      name: 'fixed',
      version: '1',
      bytes: buildModel({
        inputs: [{ name: 'x', elemType: ELEM.FLOAT, dims: [2, 2] }],
        outputs: [{ name: 'y', elemType: ELEM.FLOAT, dims: [2, 2] }],
        nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
      }),
      batching: { maxBatchSize: 8, maxQueueDelayMicros: NEVER },
    });
    const alone = await Promise.all(
      [0, 1, 2].map((i) => fixed.inferWithTiming(makeRequest([rows(2, 2, i)], 'typed'))),
    );
    expect(alone.map((o) => o.timing)).toMatchObject(
      [0, 1, 2].map(() => ({ batchRequests: 1, batchSize: 1 })),
    );

    const twoInputs = await open({
      name: 'two',
      version: '1',
      bytes: buildModel({
        inputs: [
          { name: 'x', elemType: ELEM.FLOAT, dims: ['N', 2] },
          { name: 'z', elemType: ELEM.INT64, dims: ['K'] },
        ],
        outputs: [
          { name: 'y', elemType: ELEM.FLOAT, dims: ['N', 2] },
          { name: 'w', elemType: ELEM.INT64, dims: ['K'] },
        ],
        nodes: [
          { op: 'Identity', inputs: ['x'], outputs: ['y'] },
          { op: 'Identity', inputs: ['z'], outputs: ['w'] },
        ],
      }),
      batching: { maxBatchSize: 8, maxQueueDelayMicros: NEVER },
    });
    const z: PlainTensor = { name: 'z', datatype: 'INT64', shape: [3], data: [7n, 8n, 9n] };
    const outcome = await twoInputs.inferWithTiming(makeRequest([rows(1, 2, 0), z], 'typed'));
    expect(outcome.timing.batchRequests).toBe(1);
    expect(readOutput(outcome.response, 'w').data).toEqual([7n, 8n, 9n]);
  });

  it('runs requests alone when an output does not follow the batch dimension', async () => {
    // ReduceSum over axis 0 gives [1, M] whatever the rows: it cannot be split back per request.
    const model = await open({
      name: 'sum',
      version: '1',
      bytes: buildModel({
        opset: 11,
        inputs: [{ name: 'x', elemType: ELEM.FLOAT, dims: ['N', 2] }],
        outputs: [{ name: 's', elemType: ELEM.FLOAT, dims: [1, 2] }],
        nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['s'], attributes: { axes: [0], keepdims: 1 } }],
      }),
      batching: { maxBatchSize: 4, maxQueueDelayMicros: NEVER },
    });
    const requests = [rows(1, 2, 0), rows(2, 2, 1), rows(1, 2, 2)];
    const outcomes = await Promise.all(requests.map((r) => model.inferWithTiming(makeRequest([r], 'typed'))));
    expect(outcomes.map((o) => o.timing.batchRequests)).toEqual([1, 1, 1]);
    expect(readOutput(outcomes[1]?.response as never, 's').data).toEqual([100 + 102, 101 + 103]);
  });

  it('isolates a request that makes the batched run fail: only that request fails', async () => {
    // GatherElements along axis 1 is row-wise, so batching is sound; index 9 is out of range.
    const model = await open({
      name: 'gather',
      version: '1',
      bytes: buildModel({
        inputs: [
          { name: 'x', elemType: ELEM.FLOAT, dims: ['N', 3] },
          { name: 'i', elemType: ELEM.INT64, dims: ['N', 1] },
        ],
        outputs: [{ name: 'y', elemType: ELEM.FLOAT, dims: ['N', 1] }],
        nodes: [{ op: 'GatherElements', inputs: ['x', 'i'], outputs: ['y'], attributes: { axis: 1 } }],
      }),
      batching: { maxBatchSize: 3, maxQueueDelayMicros: NEVER },
    });
    const request = (index: bigint, seed: number) =>
      makeRequest(
        [rows(1, 3, seed), { name: 'i', datatype: 'INT64', shape: [1, 1], data: [index] }],
        'typed',
      );
    const settled = await Promise.allSettled([
      model.infer(request(2n, 1)),
      model.infer(request(9n, 2)),
      model.infer(request(0n, 3)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(readOutput((settled[0] as PromiseFulfilledResult<never>).value, 'y').data).toEqual([102]);
    expect(readOutput((settled[2] as PromiseFulfilledResult<never>).value, 'y').data).toEqual([300]);
  });

  it('aims for preferred batch sizes: runs at the largest at once, and cuts the queue into preferred sizes on flush', async () => {
    const model = await open({
      name: 'm',
      version: '1',
      bytes: matrixModel,
      batching: { maxBatchSize: 8, maxQueueDelayMicros: NEVER, preferredBatchSizes: [2, 4] },
    });
    const four = await Promise.all(
      [0, 1, 2, 3].map((i) => model.inferWithTiming(makeRequest([rows(1, 2, i)], 'raw'))),
    );
    expect(four.map((o) => o.timing.batchRequests)).toEqual([4, 4, 4, 4]);

    const other = await open({
      name: 'm',
      version: '2',
      bytes: matrixModel,
      batching: { maxBatchSize: 8, maxQueueDelayMicros: NEVER, preferredBatchSizes: [2, 4] },
    });
    const three = [0, 1, 2].map((i) => other.inferWithTiming(makeRequest([rows(1, 2, i)], 'raw')));
    await other.close(); // flushes the queue: 3 rows become a preferred batch of 2, then the rest
    expect((await Promise.all(three)).map((o) => o.timing.batchRequests)).toEqual([2, 2, 1]);
  });

  it('drains on close: queued requests are answered, later ones refused', async () => {
    const model = await loadModel({
      name: 'm',
      version: '1',
      bytes: matrixModel,
      batching: { maxBatchSize: 8, maxQueueDelayMicros: NEVER },
    });
    const pending = [0, 1, 2].map((i) => model.infer(makeRequest([rows(1, 2, i)], 'typed')));
    await model.close();
    const answers = await Promise.all(pending);
    answers.forEach((a, i) => expect(readOutput(a, 'y').data).toEqual(rows(1, 2, i).data));
    await expect(model.infer(makeRequest([rows(1, 2, 0)], 'typed'))).rejects.toBeInstanceOf(UnavailableError);
    await model.close();
  });
});

const dir = conformanceDir();
const skip = skipWithoutConformance();

describe.skipIf(skip)('dynamic batcher: batched answers equal answers alone (seeded property)', () => {
  // The describe body runs even when skipped: never touch the corpus path here when it is absent.
  const tabular = (...p: string[]): string => path.join(dir ?? '', 'models', 'tabular', ...p);
  const subjects = [
    { file: tabular('onnxruntime', 'tree_ensemble_as_tensor.onnx'), input: 'X', datatype: 'FP64', width: 4 },
    { file: tabular('onnxruntime_go', 'sklearn_randomforest.onnx'), input: 'X', datatype: 'FP32', width: 4 },
    {
      file: tabular('onnxruntime', 'sklearn_bin_voting_classifier_soft.onnx'),
      input: 'input',
      datatype: 'FP32',
      width: 2,
    },
  ] as const;
  const alone: LoadedModel[] = [];
  beforeAll(async () => {
    for (const s of subjects) alone.push(await open({ name: 'alone', version: '1', path: s.file }));
  });

  it('holds over random batch compositions', async () => {
    let batchedRuns = 0;
    const requestArb = fc.record({
      rows: fc.integer({ min: 1, max: 3 }),
      values: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 12, maxLength: 12 }),
      raw: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: subjects.length - 1 }),
        fc.array(requestArb, { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 3, max: 8 }),
        fc.boolean(),
        async (subject, specs, maxBatchSize, preferred) => {
          const s = subjects[subject] as (typeof subjects)[number];
          const batched = await loadModel({
            name: 'batched',
            version: '1',
            path: s.file,
            batching: {
              maxBatchSize,
              maxQueueDelayMicros: 500,
              ...(preferred ? { preferredBatchSizes: [2, 3] } : {}),
            },
          });
          try {
            const requests = specs.map((spec, i) => {
              const values = spec.values
                .slice(0, spec.rows * s.width)
                .map((v) => (s.datatype === 'FP32' ? Math.fround(v) : v));
              return makeRequest(
                [{ name: s.input, datatype: s.datatype, shape: [spec.rows, s.width], data: values }],
                spec.raw ? 'raw' : 'typed',
                {
                  id: `r${i}`,
                },
              );
            });
            const together = await Promise.all(requests.map((r) => batched.inferWithTiming(r)));
            const separately = await Promise.all(
              requests.map((r) => (alone[subject] as LoadedModel).infer(r)),
            );
            together.forEach((t, i) => {
              const expected = separately[i] as (typeof separately)[number];
              expect(t.response.outputs.map((o) => o.name)).toEqual(expected.outputs.map((o) => o.name));
              for (const o of expected.outputs)
                expect(readOutput(t.response, o.name)).toEqual(readOutput(expected, o.name));
              expect(t.timing.batchSize).toBeLessThanOrEqual(maxBatchSize);
            });
            batchedRuns += together.filter((t) => t.timing.batchRequests > 1).length;
          } finally {
            await batched.close();
          }
        },
      ),
      { seed: 20240601, numRuns: 30 },
    );
    expect(batchedRuns).toBeGreaterThan(0);
  });
});
