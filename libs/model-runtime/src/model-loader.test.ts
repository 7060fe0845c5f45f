import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from '@slipway/errors';
import { loadModel } from './model-loader.js';
import { ELEM, buildModel, identityModel } from './testing/tiny-models.js';
import { makeRequest, readOutput } from '@slipway/testing';

const bytes = identityModel(ELEM.FLOAT, ['N', 2]);
const sha256 = createHash('sha256').update(bytes).digest('hex');

describe('loadModel', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('refuses an artifact whose sha256 differs, naming both hashes, before any session is created', async () => {
    const create = vi.spyOn(ort.InferenceSession, 'create');
    const wrong = 'ab'.repeat(32);
    const attempt = loadModel({ name: 'fraud', version: '7', bytes, expectedSha256: wrong });
    await expect(attempt).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(attempt).rejects.toThrow(
      `model "fraud" version "7": artifact sha256 is ${sha256} but ${wrong} was expected; the artifact is corrupt or not this version, fetch it again`,
    );
    expect(create).not.toHaveBeenCalled();
  });

  it('loads when the sha256 matches (any case) and reports what it loaded', async () => {
    const create = vi.spyOn(ort.InferenceSession, 'create');
    const model = await loadModel({
      name: 'fraud',
      version: '7',
      bytes,
      expectedSha256: sha256.toUpperCase(),
      sessionOptions: {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
      },
    });
    expect(create).toHaveBeenCalledOnce();
    try {
      expect(model).toMatchObject({
        name: 'fraud',
        version: '7',
        sha256,
        platform: 'onnxruntime_onnx',
        executor: 'in-process',
        warmup: { ran: true },
      });
      expect(model.metadata()).toEqual({
        name: 'fraud',
        versions: ['7'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1n, 2n] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [-1n, 2n] }],
      });
      const response = await model.infer(
        makeRequest([{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }], 'typed', { id: 'abc' }),
      );
      expect(response).toMatchObject({ modelName: 'fraud', modelVersion: '7', id: 'abc' });
    } finally {
      await model.close();
    }
  });

  it('refuses a malformed expected hash, a missing file, and bytes that are not a model', async () => {
    await expect(loadModel({ name: 'm', version: '1', bytes, expectedSha256: 'abc' })).rejects.toThrow(
      new InvalidArgumentError(
        'model "m" version "1": expectedSha256 "abc" is not a hex sha256 (64 hex digits)',
      ),
    );
    await expect(loadModel({ name: 'm', version: '1', path: '/nonexistent/model.onnx' })).rejects.toThrow(
      new NotFoundError(
        'model "m" version "1": model file "/nonexistent/model.onnx" does not exist; fetch the artifact first',
      ),
    );
    const garbage = loadModel({
      name: 'm',
      version: '1',
      bytes: new TextEncoder().encode('not an onnx model'),
    });
    await expect(garbage).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(garbage).rejects.toThrow(/^model "m" version "1" could not be loaded by onnxruntime: /);
  });

  it('fails the load when the warm-up inference fails, and accepts a warm-up request instead', async () => {
    // Reshape with a synthetic all-zero 3-d target shape cannot copy a third dimension from a 2-d input.
    const reshape = buildModel({
      inputs: [
        { name: 'data', elemType: ELEM.FLOAT, dims: ['N', 3] },
        { name: 'shape', elemType: ELEM.INT64, dims: [3] },
      ],
      outputs: [{ name: 'out', elemType: ELEM.FLOAT, dims: undefined }],
      nodes: [{ op: 'Reshape', inputs: ['data', 'shape'], outputs: ['out'] }],
    });
    const attempt = loadModel({ name: 'r', version: '1', bytes: reshape });
    await expect(attempt).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(attempt).rejects.toThrow(
      /^model "r" version "1" failed its warm-up inference, so it cannot serve: /,
    );

    const warmup = makeRequest(
      [
        { name: 'data', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
        { name: 'shape', datatype: 'INT64', shape: [3], data: [3n, 2n, 1n] },
      ],
      'typed',
    );
    const model = await loadModel({ name: 'r', version: '1', bytes: reshape, warmup });
    try {
      expect(model.warmup).toEqual({ ran: true });
      expect(readOutput(await model.infer(warmup), 'out').shape).toEqual([3, 2, 1]);
    } finally {
      await model.close();
    }
  });

  it('closes idempotently and refuses requests afterwards', async () => {
    const model = await loadModel({ name: 'm', version: '1', bytes, warmup: false });
    expect(model.warmup).toEqual({ ran: false, skippedReason: 'disabled by option' });
    await Promise.all([model.close(), model.close()]);
    await expect(
      model.infer(makeRequest([{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }], 'typed')),
    ).rejects.toThrow(
      new UnavailableError('model "m" version "1" is unloaded; route the request to a ready replica'),
    );
  });
});
