import { inference } from '@slipway/contracts';
import { FailedPreconditionError, NotFoundError, UnavailableError } from '@slipway/errors';
import { loadModel, type LoadedModel } from '@slipway/model-runtime';
import { buildLogisticRegression } from '@slipway/onnx';
import { afterEach, describe, expect, it } from 'vitest';
import { createModelTable, type ModelTable } from './model-table.js';

const bytesOf = (bias: number): Uint8Array => buildLogisticRegression({ weights: [1, 2], bias }).bytes;
const load =
  (name: string, version: number, bias = 0) =>
  (): Promise<LoadedModel> =>
    loadModel({ name, version: String(version), bytes: bytesOf(bias) });

const request = inference.ModelInferRequest.fromPartial({
  modelName: 'm',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1n, 2n], contents: { fp32Contents: [0, 0] } }],
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

let table: ModelTable;
afterEach(async () => {
  await table?.close();
});

describe('model table', () => {
  it('serves the highest ready version by default and any ready version by number', async () => {
    table = createModelTable();
    await table.load('m', 1, load('m', 1));
    await table.load('m', 2, load('m', 2));
    expect(table.resolve('m').version).toBe('2');
    expect(table.resolve('m', '1').version).toBe('1');
    expect(table.readyVersions('m')).toEqual([1, 2]);
    expect(table.list()).toEqual([
      { name: 'm', version: 1, state: 'READY', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      { name: 'm', version: 2, state: 'READY', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
  });

  it('names what exists when a model or version is unknown', async () => {
    table = createModelTable();
    expect(() => table.resolve('m')).toThrow(
      new NotFoundError('model "m" is not served by this worker (no models are loaded)'),
    );
    await table.load('m', 1, load('m', 1));
    expect(() => table.resolve('x')).toThrow(
      new NotFoundError('model "x" is not served by this worker (served: "m")'),
    );
    expect(() => table.resolve('m', '7')).toThrow(
      new NotFoundError('model "m" has no version "7" (versions: 1 ready)'),
    );
    expect(() => table.resolve('m', 'latest')).toThrow(NotFoundError);
    expect(table.isReady('m', '7')).toBe(false);
  });

  it('keeps serving the ready version while a new one loads, and reports the new one as loading', async () => {
    table = createModelTable();
    await table.load('m', 1, load('m', 1));
    const gate = deferred();
    const loading = table.load('m', 2, async () => {
      await gate.promise;
      return load('m', 2)();
    });
    expect(table.settled()).toBe(false);
    expect(table.resolve('m').version).toBe('1');
    expect(() => table.resolve('m', '2')).toThrow(
      new UnavailableError(
        'model "m" version 2 is still loading; retry shortly, or omit the version to use the newest ready one (1)',
      ),
    );
    gate.resolve();
    expect(await loading).toMatchObject({ state: 'READY' });
    expect(table.settled()).toBe(true);
    expect(table.resolve('m').version).toBe('2');
  });

  it('records a failed load with its error, keeps the others serving, and loads it again on request', async () => {
    table = createModelTable();
    await table.load('m', 1, load('m', 1));
    const failed = await table.load('m', 2, () => Promise.reject(new Error('sha256 mismatch')));
    expect(failed).toEqual({ name: 'm', version: 2, state: 'FAILED', error: 'sha256 mismatch' });
    expect(table.resolve('m').version).toBe('1');
    expect(() => table.resolve('m', '2')).toThrow(
      new FailedPreconditionError('model "m" version 2 failed to load and does not serve: sha256 mismatch'),
    );
    expect(await table.load('m', 2, load('m', 2))).toMatchObject({ state: 'READY' });
    expect(table.resolve('m', '2').version).toBe('2');
  });

  it('does not load a version twice', async () => {
    table = createModelTable();
    let loads = 0;
    const counted = async (): Promise<LoadedModel> => {
      loads++;
      return load('m', 1)();
    };
    await Promise.all([table.load('m', 1, counted), table.load('m', 1, counted)]);
    await table.load('m', 1, counted);
    expect(loads).toBe(1);
  });

  it('closes an unloaded version only after the requests running on it have finished', async () => {
    table = createModelTable();
    await table.load('m', 1, load('m', 1));
    const inside = deferred();
    const finish = deferred();
    let model: LoadedModel | undefined;
    const running = table.use('m', '1', async (m) => {
      model = m;
      inside.resolve();
      await finish.promise;
      return m.infer(request);
    });
    await inside.promise;
    let unloaded = false;
    const unloading = table.unload('m', 1).then(() => (unloaded = true));
    // Gone for new requests at once...
    expect(() => table.resolve('m', '1')).toThrow(NotFoundError);
    expect(table.list()).toEqual([]);
    // ...but the request already running still completes on an open session.
    expect(unloaded).toBe(false);
    finish.resolve();
    expect((await running).outputs[0]?.name).toBe('probability');
    await unloading;
    expect(unloaded).toBe(true);
    await expect((model as LoadedModel).infer(request)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('closes a version unloaded while it was loading as soon as its load ends', async () => {
    table = createModelTable();
    const gate = deferred();
    let model: LoadedModel | undefined;
    const loading = table.load('m', 1, async () => {
      await gate.promise;
      model = await load('m', 1)();
      return model;
    });
    const unloading = table.unload('m', 1);
    gate.resolve();
    expect(await loading).toMatchObject({ state: 'FAILED', error: 'unloaded while loading' });
    await unloading;
    await expect((model as LoadedModel).infer(request)).rejects.toBeInstanceOf(UnavailableError);
    expect(table.list()).toEqual([]);
  });

  it('tells listeners about every change', async () => {
    table = createModelTable();
    const seen: string[] = [];
    table.onChange(() =>
      seen.push(
        table
          .list()
          .map((s) => `${s.version}:${s.state}`)
          .join(','),
      ),
    );
    await table.load('m', 1, load('m', 1));
    table.fail('m', 2, 'bad config');
    await table.unload('m', 1);
    expect(seen).toEqual(['1:LOADING', '1:READY', '1:READY,2:FAILED', '2:FAILED']);
  });
});
