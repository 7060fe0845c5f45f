import { describe, expect, it } from 'vitest';
import { firstOutput, numericValues, vectorRequest } from './tensors.js';

describe('tensors', () => {
  it('packs a feature matrix as one raw FP32 tensor', () => {
    const matrix = new Float32Array([1, 2, 3, 4, 5, 6]);
    const request = vectorRequest('fraud', 7, 'input', 'probability', matrix, 2);
    expect(request).toMatchObject({
      modelName: 'fraud',
      modelVersion: '7',
      outputs: [{ name: 'probability' }],
    });
    expect(request.inputs[0]).toMatchObject({ name: 'input', datatype: 'FP32', shape: [2n, 3n] });
    expect(numericValues('FP32', [2n, 3n], undefined, request.rawInputContents[0])).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
  });

  it('reads raw and typed numeric outputs, and refuses what it cannot read', () => {
    const f64 = new Float64Array([0.25, 0.75]);
    expect(numericValues('FP64', [2n], undefined, new Uint8Array(f64.buffer))).toEqual([0.25, 0.75]);
    const i64 = new BigInt64Array([3n, -4n]);
    expect(numericValues('INT64', [2n], undefined, new Uint8Array(i64.buffer))).toEqual([3, -4]);
    expect(numericValues('BYTES', [1n], undefined, new Uint8Array([1, 2]))).toBeUndefined();
    expect(numericValues('FP32', [10_000n], undefined, new Uint8Array(40_000), 4096)).toBeUndefined();
    const contents = {
      boolContents: [],
      intContents: [],
      int64Contents: [5n],
      uintContents: [],
      uint64Contents: [],
      fp32Contents: [],
      fp64Contents: [],
      bytesContents: [],
    };
    expect(numericValues('INT64', [1n], contents, undefined)).toEqual([5]);
    expect(
      firstOutput({
        modelName: 'm',
        modelVersion: '1',
        id: '',
        parameters: {},
        outputs: [
          { name: 'probability', datatype: 'FP32', shape: [1n, 1n], parameters: {}, contents: undefined },
        ],
        rawOutputContents: [new Uint8Array(new Float32Array([0.5]).buffer)],
      }),
    ).toEqual({ values: [0.5], shape: [1n, 1n] });
  });
});
