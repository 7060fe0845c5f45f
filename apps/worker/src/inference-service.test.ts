// The Open Inference Protocol over real gRPC: a worker in this process on 127.0.0.1:0, in local
// mode on a temporary model repository.
import { status } from '@grpc/grpc-js';
import { inference } from '@slipway/contracts';
import { loadModel } from '@slipway/model-runtime';
import { buildLogisticRegression } from '@slipway/onnx';
import { createClient, createLogger, createServiceServer, SlipwayError } from '@slipway/service-kit';
import { createTempDir, type TempDir } from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceService } from './inference-service.js';
import { createModelTable } from './model-table.js';
import { addModel, startLocalWorker, type LocalWorker } from './testing/fixtures.js';
import { makeRequest, readOutput, type PlainTensor } from '@slipway/testing';

const WEIGHTS = {
  1: { weights: [0.5, -0.25, 1, 0.125], bias: 0.1 },
  2: { weights: [-1, 0.75, 0.5, 2], bias: -0.3 },
} as const;
const MAX_BATCH = 8;
const MAX_MESSAGE_BYTES = 64 * 1024;

function expected(version: 1 | 2, row: readonly number[]): number {
  const { weights, bias } = WEIGHTS[version];
  const logit = row.reduce((sum, x, i) => sum + x * (weights[i] as number), bias);
  return 1 / (1 + Math.exp(-logit));
}

const x = (rows: number, width = 4): PlainTensor => ({
  name: 'input',
  datatype: 'FP32',
  shape: [rows, width],
  data: Array.from({ length: rows * width }, (_, i) => (i % 7) / 4 - 0.5),
});

async function failure(call: Promise<unknown>): Promise<{ code: number | undefined; message: string }> {
  const error = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(error instanceof SlipwayError)) throw new Error(`expected a failed call, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

let tmp: TempDir;
let running: LocalWorker;

beforeAll(async () => {
  tmp = await createTempDir('worker-grpc-');
  for (const version of [1, 2] as const) {
    await addModel(
      tmp.path,
      'scorer',
      version,
      { bytes: buildLogisticRegression(WEIGHTS[version]).bytes },
      {
        maxBatchSize: MAX_BATCH,
        maxQueueDelayMicros: 200,
      },
    );
  }
  await addModel(tmp.path, 'broken', 1, { bytes: new TextEncoder().encode('not an onnx model') });
  running = await startLocalWorker(tmp.path, {
    SLIPWAY_WORKER_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
  });
});

afterAll(async () => {
  await running?.stop();
  await tmp?.cleanup();
});

describe('server and model status', () => {
  it('is live and ready, and describes itself', async () => {
    const { client } = running;
    expect(await client.serverLive({})).toEqual({ live: true });
    expect(await client.serverReady({})).toEqual({ ready: true });
    expect(await client.serverMetadata({})).toEqual({
      name: 'slipway-worker',
      version: '0.1.0',
      extensions: ['binary_tensor_data'],
    });
  });

  it('answers ModelReady per model and version', async () => {
    const ready = async (name: string, version = ''): Promise<boolean> =>
      (await running.client.modelReady({ name, version })).ready;
    expect(await ready('scorer')).toBe(true);
    expect(await ready('scorer', '1')).toBe(true);
    expect(await ready('scorer', '2')).toBe(true);
    expect(await ready('scorer', '3')).toBe(false);
    expect(await ready('nope')).toBe(false);
    expect(await ready('broken')).toBe(false);
  });

  it('describes the newest ready version, or the one asked for, with the ready versions', async () => {
    const metadata = await running.client.modelMetadata({ name: 'scorer', version: '' });
    expect(metadata).toEqual({
      name: 'scorer',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1n, 4n] }],
      outputs: [{ name: 'probability', datatype: 'FP32', shape: [-1n, 1n] }],
    });
    expect(await running.client.modelMetadata({ name: 'scorer', version: '1' })).toEqual(metadata);
    expect(await failure(running.client.modelMetadata({ name: 'broken', version: '' }))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      message: expect.stringMatching(/^model "broken" has no ready version: version 1: .*onnxruntime/),
    });
  });
});

describe('ModelInfer', () => {
  it('answers from the highest ready version when none is named, and echoes the request id', async () => {
    const input = x(3);
    const response = await running.client.modelInfer(
      makeRequest([input], 'typed', { modelName: 'scorer', id: 'r-1' }),
    );
    expect(response).toMatchObject({ modelName: 'scorer', modelVersion: '2', id: 'r-1' });
    const out = readOutput(response, 'probability');
    expect(out.shape).toEqual([3, 1]);
    out.data.forEach((p, row) =>
      expect(p).toBeCloseTo(expected(2, (input.data as number[]).slice(row * 4, row * 4 + 4)), 5),
    );
  });

  it('answers from the version asked for, typed or raw', async () => {
    const input = x(2);
    for (const form of ['typed', 'raw'] as const) {
      const response = await running.client.modelInfer(
        makeRequest([input], form, { modelName: 'scorer', modelVersion: '1', id: form }),
      );
      expect(response).toMatchObject({ modelVersion: '1', id: form });
      expect(response.rawOutputContents).toHaveLength(form === 'raw' ? 1 : 0);
      const out = readOutput(response, 'probability');
      out.data.forEach((p, row) =>
        expect(p).toBeCloseTo(expected(1, (input.data as number[]).slice(row * 4, row * 4 + 4)), 5),
      );
    }
  });

  const request = (inputs: PlainTensor[], form: 'typed' | 'raw' = 'typed', version = '') =>
    makeRequest(inputs, form, { modelName: 'scorer', modelVersion: version });
  const malformed: [string, () => inference.ModelInferRequest, RegExp][] = [
    [
      'unknown input',
      () => request([{ ...x(1), name: 'features' }]),
      /^model "scorer" has no input "features"; its inputs are "input"$/,
    ],
    ['missing input', () => request([]), /^model "scorer" needs input "input", missing from the request$/],
    [
      'rank mismatch',
      () => request([{ ...x(1), shape: [4] }]),
      /^input "input": shape \[4\] has rank 1 but the model expects rank 2 \(\[-1,4\]\)$/,
    ],
    [
      'size mismatch',
      () => request([x(1, 3)]),
      /^input "input": shape \[1,3\] does not fit the model's \[-1,4\]: dimension 1 is 3, must be 4$/,
    ],
    [
      'contents count ≠ shape',
      () => request([{ ...x(1), data: [1, 2, 3] }]),
      /^input "input": shape \[1,4\] has 4 elements but contents.fp32_contents holds 3$/,
    ],
    [
      'datatype mismatch',
      () => request([{ ...x(1), datatype: 'FP64' }]),
      /^input "input": datatype FP64 does not match the model's FP32; send FP32 \(values are never converted\)$/,
    ],
    [
      'raw length ≠ shape × element size',
      () => {
        const r = request([x(1)], 'raw');
        r.rawInputContents = [new Uint8Array(12)];
        return r;
      },
      /^input "input": shape \[1,4\] has 4 elements but raw_input_contents\[0\] holds 12 bytes \(FP32 needs 16\)$/,
    ],
    [
      'contents and raw mixed',
      () => {
        const r = request([x(1)], 'typed');
        r.rawInputContents = [new Uint8Array(16)];
        return r;
      },
      /^input "input" has typed contents while the request also uses raw_input_contents; use one form for all inputs$/,
    ],
    [
      'batch above the configured maximum',
      () => request([x(MAX_BATCH + 1)]),
      new RegExp(
        `^batch of ${MAX_BATCH + 1} rows exceeds the configured maximum ${MAX_BATCH}; split the request$`,
      ),
    ],
  ];
  it.each(malformed)('refuses %s with INVALID_ARGUMENT naming the problem', async (_, build, message) => {
    const got = await failure(running.client.modelInfer(build()));
    expect(got.code).toBe(status.INVALID_ARGUMENT);
    expect(got.message).toMatch(message);
  });

  it('refuses an unknown model or version with NOT_FOUND, saying what exists', async () => {
    expect(
      await failure(running.client.modelInfer(makeRequest([x(1)], 'typed', { modelName: 'nope' }))),
    ).toEqual({
      code: status.NOT_FOUND,
      message: 'model "nope" is not served by this worker (served: "broken", "scorer")',
    });
    expect(await failure(running.client.modelInfer(request([x(1)], 'typed', '9')))).toEqual({
      code: status.NOT_FOUND,
      message: 'model "scorer" has no version "9" (versions: 1 ready, 2 ready)',
    });
  });

  it('refuses a version that failed to load with FAILED_PRECONDITION and the load error', async () => {
    const got = await failure(
      running.client.modelInfer(makeRequest([x(1)], 'typed', { modelName: 'broken', modelVersion: '1' })),
    );
    expect(got.code).toBe(status.FAILED_PRECONDITION);
    expect(got.message).toMatch(
      /^model "broken" version 1 failed to load and does not serve: model "broken" version "1" could not be loaded by onnxruntime: /,
    );
  });

  it('refuses a message above SLIPWAY_WORKER_MAX_MESSAGE_BYTES with INVALID_ARGUMENT naming both sizes', async () => {
    const rows = 5_000; // 5000 × 4 floats ≈ 80 KiB encoded, above the 64 KiB limit
    const got = await failure(running.client.modelInfer(request([x(rows)], 'raw')));
    expect(got.code).toBe(status.INVALID_ARGUMENT);
    expect(got.message).toMatch(
      /^request message of \d+ bytes exceeds this server's limit of 65536 bytes; split the request/,
    );
  });

  it('refuses a message far above the limit at the transport, with RESOURCE_EXHAUSTED', async () => {
    // Beyond twice the limit (+1 MiB) grpc-js refuses the message before reading it whole.
    const rows = 80_000; // ≈ 1.3 MiB
    const got = await failure(running.client.modelInfer(request([x(rows)], 'raw')));
    expect(got.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(got.message).toMatch(/^Received message larger than max/);
  });
});

describe('a version still loading', () => {
  it('is UNAVAILABLE, then serves once loaded; ServerReady waits for it', async () => {
    const table = createModelTable();
    const server = createServiceServer({
      name: 'worker',
      address: '127.0.0.1:0',
      logger: createLogger('worker', { level: 'warn' }),
    });
    server.add(
      inference.GRPCInferenceServiceService,
      createInferenceService({ table, serverReady: () => table.settled() }),
    );
    const { address } = await server.start();
    const client = createClient(inference.GRPCInferenceServiceService, address, {
      retry: { maxAttempts: 1 },
    });
    try {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const loaded = table.load('slow', 1, async () => {
        await gate;
        return loadModel({ name: 'slow', version: '1', bytes: buildLogisticRegression(WEIGHTS[1]).bytes });
      });
      const call = makeRequest([x(1)], 'typed', { modelName: 'slow', modelVersion: '1' });
      expect(await failure(client.modelInfer(call))).toEqual({
        code: status.UNAVAILABLE,
        message: 'model "slow" version 1 is still loading; retry shortly',
      });
      expect(await failure(client.modelInfer({ ...call, modelVersion: '' }))).toEqual({
        code: status.UNAVAILABLE,
        message: 'model "slow" has no ready version yet (versions: 1 loading); retry shortly',
      });
      expect(await client.serverReady({})).toEqual({ ready: false });
      expect(await client.modelReady({ name: 'slow', version: '1' })).toEqual({ ready: false });
      release();
      expect(await loaded).toMatchObject({ state: 'READY' });
      expect(await client.serverReady({})).toEqual({ ready: true });
      expect((await client.modelInfer(call)).modelVersion).toBe('1');
    } finally {
      client.close();
      await server.shutdown('test done');
      await table.close();
    }
  });
});
