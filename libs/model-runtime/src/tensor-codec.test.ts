import { type inference } from '@slipway/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@slipway/errors';
import { loadModel, type LoadedModel } from './model-loader.js';
import { decodeInferRequest } from './tensor-codec.js';
import { ELEM, buildModel, identityModel } from './testing/tiny-models.js';
import { makeRequest, readOutput, typedContents, type PlainTensor } from '@slipway/testing';

const samples: Record<string, { elem: number; data: PlainTensor['data'] }> = {
  BOOL: { elem: ELEM.BOOL, data: [true, false, true, true, false, false] },
  UINT8: { elem: ELEM.UINT8, data: [0, 1, 127, 128, 200, 255] },
  UINT16: { elem: ELEM.UINT16, data: [0, 1, 300, 40000, 65534, 65535] },
  UINT32: { elem: ELEM.UINT32, data: [0, 1, 70000, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1] },
  UINT64: { elem: ELEM.UINT64, data: [0n, 1n, 2n ** 40n, 2n ** 63n, 2n ** 64n - 2n, 2n ** 64n - 1n] },
  INT8: { elem: ELEM.INT8, data: [-128, -1, 0, 1, 100, 127] },
  INT16: { elem: ELEM.INT16, data: [-32768, -1, 0, 1, 1000, 32767] },
  INT32: { elem: ELEM.INT32, data: [-(2 ** 31), -1, 0, 1, 123456, 2 ** 31 - 1] },
  INT64: { elem: ELEM.INT64, data: [-(2n ** 63n), -1n, 0n, 1n, 2n ** 53n + 1n, 2n ** 63n - 1n] },
  FP16: { elem: ELEM.FLOAT16, data: [0, -1, 0.5, 65504, 0.0999755859375, -2.5] },
  FP32: { elem: ELEM.FLOAT, data: [0, -1.5, 3.25, Math.fround(1e-30), -3.4028234663852886e38, Number.NaN] },
  FP64: {
    elem: ELEM.DOUBLE,
    data: [0, -1.5, Math.PI, 1e-300, 1.7976931348623157e308, Number.NEGATIVE_INFINITY],
  },
  BYTES: { elem: ELEM.STRING, data: ['', 'a', 'héllo', '日本', 'x'.repeat(300), '🙂'] },
};

describe('tensor codec: every datatype through onnxruntime (Identity models)', () => {
  const models = new Map<string, LoadedModel>();
  beforeAll(async () => {
    for (const [datatype, { elem }] of Object.entries(samples)) {
      models.set(
        datatype,
        await loadModel({ name: `identity-${datatype}`, version: '1', bytes: identityModel(elem, ['N', 3]) }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all([...models.values()].map((m) => m.close()));
  });

  const forms = (datatype: string): ('typed' | 'raw' | 'raw-unaligned')[] =>
    datatype === 'FP16' ? ['raw', 'raw-unaligned'] : ['typed', 'raw', 'raw-unaligned'];
  const cases = Object.keys(samples).flatMap((d) => forms(d).map((f) => [d, f] as const));

  it.each(cases)('%s round-trips exactly with %s inputs', async (datatype, form) => {
    const model = models.get(datatype) as LoadedModel;
    expect(model.signature.inputs).toEqual([
      { name: 'x', datatype, shape: [-1, 3], rankKnown: true, dimNames: ['N', undefined] },
    ]);
    const x: PlainTensor = {
      name: 'x',
      datatype,
      shape: [2, 3],
      data: samples[datatype]?.data as PlainTensor['data'],
    };
    const response = await model.infer(makeRequest([x], form));
    const raw = form !== 'typed' || datatype === 'FP16';
    expect(response.rawOutputContents.length).toBe(raw ? 1 : 0);
    expect(response.outputs[0]?.contents === undefined).toBe(raw);
    expect(readOutput(response, 'y')).toEqual({ ...x, name: 'y' });
  });

  it('normalises BOOL raw bytes other than 0/1 to true', async () => {
    const model = models.get('BOOL') as LoadedModel;
    const request = makeRequest(
      [{ name: 'x', datatype: 'BOOL', shape: [2, 3], data: [false, false, false, false, false, false] }],
      'raw',
    );
    request.rawInputContents[0] = Buffer.from([0, 2, 255, 1, 0, 7]);
    const response = await model.infer(request);
    expect([...(response.rawOutputContents[0] as Buffer)]).toEqual([0, 1, 1, 1, 0, 1]);
  });

  it('answers raw or typed as binary_data_output, the rawOutput option, or the input form decide', async () => {
    const model = models.get('INT32') as LoadedModel;
    const x: PlainTensor = { name: 'x', datatype: 'INT32', shape: [1, 3], data: [1, 2, 3] };
    const param = (boolParam: boolean): Record<string, inference.InferParameter> => ({
      binary_data_output: { parameterChoice: { $case: 'boolParam', boolParam } },
    });
    expect((await model.infer(makeRequest([x], 'typed'))).rawOutputContents).toHaveLength(0);
    expect((await model.infer(makeRequest([x], 'raw'))).rawOutputContents).toHaveLength(1);
    expect(
      (await model.infer(makeRequest([x], 'typed', { parameters: param(true) }))).rawOutputContents,
    ).toHaveLength(1);
    expect(
      (await model.infer(makeRequest([x], 'raw', { parameters: param(false) }))).rawOutputContents,
    ).toHaveLength(0);
    expect(
      (await model.infer(makeRequest([x], 'typed'), { rawOutput: true })).rawOutputContents,
    ).toHaveLength(1);
    expect(readOutput(await model.infer(makeRequest([x], 'typed'), { rawOutput: true }), 'y').data).toEqual([
      1, 2, 3,
    ]);
  });

  it('accepts zero-row tensors', async () => {
    const model = models.get('FP32') as LoadedModel;
    const response = await model.infer(
      makeRequest([{ name: 'x', datatype: 'FP32', shape: [0, 3], data: [] }], 'typed'),
    );
    expect(response.outputs[0]?.shape).toEqual([0n, 3n]);
  });

  it('accepts any rank when the model declares no shape (and skips the synthetic warm-up)', async () => {
    const model = await loadModel({
      name: 'anyrank',
      version: '1',
      bytes: identityModel(ELEM.FLOAT, undefined),
    });
    try {
      expect(model.signature.inputs[0]).toMatchObject({ rankKnown: false, shape: [] });
      expect(model.warmup).toEqual({
        ran: false,
        skippedReason: expect.stringContaining('input "x" has no declared shape'),
      });
      for (const shape of [[], [4], [1, 2, 2]]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const response = await model.infer(
          makeRequest(
            [{ name: 'x', datatype: 'FP32', shape, data: Array.from({ length: n }, (_, i) => i) }],
            'raw',
          ),
        );
        expect(response.outputs[0]?.shape).toEqual(shape.map(BigInt));
      }
    } finally {
      await model.close();
    }
  });
});

describe('tensor codec: decoding', () => {
  // x: FP32 [N,3]; s: BYTES [N]; two outputs.
  let model: LoadedModel;
  beforeAll(async () => {
    model = await loadModel({
      name: 'm',
      version: '1',
      bytes: buildModel({
        inputs: [
          { name: 'x', elemType: ELEM.FLOAT, dims: ['N', 3] },
          { name: 's', elemType: ELEM.STRING, dims: ['N'] },
        ],
        outputs: [
          { name: 'y', elemType: ELEM.FLOAT, dims: ['N', 3] },
          { name: 't', elemType: ELEM.STRING, dims: ['N'] },
        ],
        nodes: [
          { op: 'Identity', inputs: ['x'], outputs: ['y'] },
          { op: 'Identity', inputs: ['s'], outputs: ['t'] },
        ],
      }),
    });
  });
  afterAll(async () => {
    await model.close();
  });

  const x: PlainTensor = { name: 'x', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] };
  const s: PlainTensor = { name: 's', datatype: 'BYTES', shape: [2], data: ['a', 'b'] };

  it('views aligned raw bytes in place and copies only unaligned ones', () => {
    const aligned = makeRequest([x, s], 'raw');
    const decoded = decodeInferRequest(aligned, model).inputs.get('x');
    expect(decoded?.owned).toBe(false);
    expect((decoded?.data as Float32Array).buffer).toBe((aligned.rawInputContents[0] as Buffer).buffer);
    const odd = makeRequest([x, s], 'raw-unaligned');
    const copied = decodeInferRequest(odd, model).inputs.get('x');
    expect(copied?.owned).toBe(true);
    expect([...(copied?.data as Float32Array)]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('returns the requested subset of outputs in the requested order', async () => {
    const all = await model.infer(makeRequest([x, s], 'typed'));
    expect(all.outputs.map((o) => o.name)).toEqual(['y', 't']);
    const some = await model.infer(
      makeRequest([s, x], 'typed', { outputs: [{ name: 't', parameters: {} }] }),
    );
    expect(some.outputs.map((o) => o.name)).toEqual(['t']);
    expect(readOutput(some, 't').data).toEqual(['a', 'b']);
  });

  const typed = (...inputs: PlainTensor[]): inference.ModelInferRequest => makeRequest(inputs, 'typed');
  const raw = (...inputs: PlainTensor[]): inference.ModelInferRequest => makeRequest(inputs, 'raw');
  const edit = (
    request: inference.ModelInferRequest,
    change: (r: inference.ModelInferRequest) => void,
  ): inference.ModelInferRequest => {
    change(request);
    return request;
  };
  const lengthPrefixed = (...parts: [number, Buffer][]): Buffer =>
    Buffer.concat(parts.flatMap(([n, b]) => [Buffer.from(Uint32Array.of(n).buffer), b]));

  const malformed: [string, () => inference.ModelInferRequest, string][] = [
    [
      'unknown input',
      () => typed(x, s, { ...x, name: 'z' }),
      'model "m" has no input "z"; its inputs are "x", "s"',
    ],
    ['missing input', () => typed(x), 'model "m" needs input "s", missing from the request'],
    ['duplicate input', () => typed(x, s, x), 'input "x" appears twice; give each input once'],
    [
      'datatype mismatch',
      () => typed({ ...x, datatype: 'FP64' }, s),
      'input "x": datatype FP64 does not match the model\'s FP32; send FP32 (values are never converted)',
    ],
    [
      'unknown datatype',
      () => edit(typed(x, s), (r) => void ((r.inputs[0] as { datatype: string }).datatype = 'FLOAT32')),
      'input "x": datatype "FLOAT32" is not an Open Inference Protocol datatype; the model expects FP32',
    ],
    [
      'rank mismatch',
      () => typed({ ...x, shape: [6] }, s),
      'input "x": shape [6] has rank 1 but the model expects rank 2 ([-1,3])',
    ],
    [
      'fixed dimension mismatch',
      () => typed({ ...x, shape: [3, 2] }, s),
      'input "x": shape [3,2] does not fit the model\'s [-1,3]: dimension 1 is 2, must be 3',
    ],
    [
      'negative dimension',
      () => edit(typed(x, s), (r) => void (r.inputs[0] as { shape: bigint[] }).shape.splice(0, 1, -2n)),
      'input "x": shape [-2,3] has a negative dimension; give the concrete size of every dimension',
    ],
    [
      'typed element count',
      () => typed({ ...x, data: [1, 2, 3, 4, 5] }, s),
      'input "x": shape [2,3] has 6 elements but contents.fp32_contents holds 5',
    ],
    [
      'raw length',
      () => edit(raw(x, s), (r) => void (r.rawInputContents[0] = Buffer.alloc(20))),
      'input "x": shape [2,3] has 6 elements but raw_input_contents[0] holds 20 bytes (FP32 needs 24)',
    ],
    [
      'BYTES raw: fewer elements',
      () => raw(x, { ...s, data: ['a'] }),
      'input "s": shape [2] has 2 elements but raw_input_contents[1] holds 1',
    ],
    [
      'BYTES raw: more elements',
      () => raw(x, { ...s, data: ['a', 'b', 'c'] }),
      'input "s": shape [2] has 2 elements but raw_input_contents[1] holds more',
    ],
    [
      'BYTES raw: cut length',
      () => edit(raw(x, s), (r) => void (r.rawInputContents[1] = Buffer.from([1, 0, 0, 0, 97, 2, 0]))),
      'input "s": raw_input_contents[1] ends inside the 4-byte length of element 1; BYTES raw data is a 4-byte little-endian length followed by that many bytes, per element',
    ],
    [
      'BYTES raw: length past the end',
      () =>
        edit(
          raw(x, s),
          (r) => void (r.rawInputContents[1] = lengthPrefixed([1, Buffer.from('a')], [9, Buffer.from('bc')])),
        ),
      'input "s": raw_input_contents[1] element 1 declares 9 bytes but only 2 remain',
    ],
    [
      'typed contents in the wrong field',
      () =>
        edit(
          typed(x, s),
          (r) =>
            void ((r.inputs[0] as { contents: inference.InferTensorContents }).contents = typedContents(
              'FP64',
              x.data,
            )),
        ),
      'input "x": datatype FP32 takes its values in contents.fp32_contents, but the request filled contents.fp64_contents',
    ],
    [
      'no data',
      () => edit(typed(x, s), (r) => void ((r.inputs[0] as { contents: undefined }).contents = undefined)),
      'input "x": shape [2,3] has 6 elements but contents.fp32_contents holds 0',
    ],
    [
      'mixed raw and typed',
      () =>
        edit(
          raw(x, s),
          (r) =>
            void ((r.inputs[1] as { contents: inference.InferTensorContents }).contents = typedContents(
              'BYTES',
              s.data,
            )),
        ),
      'input "s" has typed contents while the request also uses raw_input_contents; use one form for all inputs',
    ],
    [
      'raw entry count',
      () => edit(raw(x, s), (r) => void r.rawInputContents.pop()),
      'raw_input_contents has 1 entries but the request has 2 inputs; give one entry per input, in the order of inputs',
    ],
    [
      'NUL inside a BYTES element (typed)',
      () => typed(x, { ...s, data: ['a', 'b\u0000c'] }),
      'input "s": BYTES element 1 contains a NUL byte, which onnxruntime strings cannot hold (it would cut the value short); remove it or encode the value (e.g. base64)',
    ],
    [
      'NUL inside a BYTES element (raw)',
      () => raw(x, { ...s, data: ['\u0000', 'b'] }),
      'input "s": BYTES element 0 contains a NUL byte, which onnxruntime strings cannot hold (it would cut the value short); remove it or encode the value (e.g. base64)',
    ],
    [
      'invalid UTF-8',
      () =>
        edit(
          typed(x, s),
          (r) =>
            void ((r.inputs[1]?.contents as inference.InferTensorContents).bytesContents[0] = Buffer.from([
              0xff, 0xfe,
            ])),
        ),
      'input "s": BYTES element 0 is not valid UTF-8; onnxruntime string tensors hold UTF-8 text only',
    ],
    [
      'unknown requested output',
      () => makeRequest([x, s], 'typed', { outputs: [{ name: 'nope', parameters: {} }] }),
      'model "m" has no output "nope"; request one of "y", "t"',
    ],
    [
      'output requested twice',
      () =>
        makeRequest([x, s], 'typed', {
          outputs: [
            { name: 'y', parameters: {} },
            { name: 'y', parameters: {} },
          ],
        }),
      'output "y" is requested twice; name each output once',
    ],
  ];

  it.each(malformed)('refuses %s with InvalidArgumentError', async (_case, request, message) => {
    const attempt = model.infer(request());
    await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('refuses out-of-range integers, FP16 typed contents and oversize shapes', async () => {
    const int8 = await loadModel({ name: 'i8', version: '1', bytes: identityModel(ELEM.INT8, [2]) });
    const uint64 = await loadModel({ name: 'u64', version: '1', bytes: identityModel(ELEM.UINT64, [2]) });
    const fp16 = await loadModel({ name: 'f16', version: '1', bytes: identityModel(ELEM.FLOAT16, [2]) });
    try {
      await expect(
        int8.infer(typed({ name: 'x', datatype: 'INT8', shape: [2], data: [1, 300] })),
      ).rejects.toThrow(
        new InvalidArgumentError('input "x": element 1 (300) is out of range for INT8 (-128..127)'),
      );
      await expect(
        int8.infer(typed({ name: 'x', datatype: 'INT8', shape: [2], data: [1.5, 3] })),
      ).rejects.toThrow(
        new InvalidArgumentError('input "x": element 0 (1.5) is out of range for INT8 (-128..127)'),
      );
      await expect(
        uint64.infer(typed({ name: 'x', datatype: 'UINT64', shape: [2], data: [-1n, 3n] })),
      ).rejects.toThrow(new InvalidArgumentError('input "x": element 0 (-1) is out of range for UINT64'));
      const half = edit(raw({ name: 'x', datatype: 'FP16', shape: [2], data: [1, 2] }), (r) => {
        r.rawInputContents = [];
        (r.inputs[0] as { contents: inference.InferTensorContents }).contents = typedContents('FP32', [1, 2]);
      });
      await expect(fp16.infer(half)).rejects.toThrow(
        new InvalidArgumentError(
          'input "x": FP16 travels only as raw bytes: put the little-endian values in raw_input_contents (one entry per input) instead of contents',
        ),
      );
      const huge = edit(
        typed(x, s),
        (r) => void ((r.inputs[0] as { shape: bigint[] }).shape = [2n ** 40n, 2n ** 40n, 3n]),
      );
      await expect(model.infer(huge)).rejects.toThrow(
        /^input "x": shape \[1099511627776,1099511627776,3\] has more elements than a tensor can hold$/,
      );
    } finally {
      await Promise.all([int8.close(), uint64.close(), fp16.close()]);
    }
  });
});
