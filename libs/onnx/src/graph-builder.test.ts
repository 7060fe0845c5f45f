import ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { InvalidModelSpecError } from './errors.js';
import { createGraphBuilder } from './graph-builder.js';
import { encodeModel } from './model-encoder.js';
import { readModelSignature } from './model-signature.js';
import { attr, createTensor } from './model-spec.js';

const onnxProto = protobuf.loadSync(new URL('../proto/onnx.proto', import.meta.url).pathname);
const ModelProto = onnxProto.lookupType('onnx.ModelProto');

/** ModelProto fields as protobufjs's toObject gives them (int64 as strings, enums as names). */
interface DecodedTensor {
  name?: string;
  dataType?: number;
  dims?: string[];
  rawData?: Uint8Array;
}
interface DecodedAttribute {
  name: string;
  type: string;
  f?: number;
  i?: string;
  ints?: string[];
  strings?: Uint8Array[];
  t?: DecodedTensor;
}
interface DecodedNode {
  opType: string;
  name?: string;
  domain?: string;
  docString?: string;
  attribute: DecodedAttribute[];
}
interface DecodedGraph {
  name: string;
  docString: string;
  input: unknown[];
  initializer: DecodedTensor[];
  node: DecodedNode[];
}

/**
 * A model touching every builder feature that onnxruntime can check by running it:
 * y1 = 2·(x·W) + float(b); scaled = ((x - offset) · scale) · c; encoded = LabelEncoder(label);
 * picked = y1[:, idx] + float(shift).
 */
function buildFeatureModel() {
  return createGraphBuilder({ graphName: 'features', producerName: 'slipway-test', producerVersion: '1.2.3' })
    .opset('ai.onnx', 17)
    .opset('ai.onnx.ml', 3)
    .docString('every builder feature')
    .graphDocString('graph doc')
    .metadata('owner', 'ml-platform')
    .metadata('feature_set', 'credit@abc123')
    .input('x', 'FLOAT', ['batch', 3])
    .input('label', 'STRING', ['batch'])
    .initializer('W', Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2])
    .initializer('b', Float64Array.of(0.5, -0.25), [2])
    .initializer('idx', BigInt64Array.of(1n), [1])
    .initializer('shift', Int32Array.of(10), [1])
    .node('Gemm', ['x', 'W'], ['xw'], { alpha: attr.float(2), transB: attr.int(0) })
    .node('Cast', ['b'], ['b_float'], { to: attr.int(1) })
    .node('Add', ['xw', 'b_float'], ['y1'])
    .node(
      'Scaler',
      ['x'],
      ['scaled_raw'],
      { offset: attr.floats([1, 0, -1]), scale: attr.floats(Float32Array.of(0.5, 2, 1)) },
      { domain: 'ai.onnx.ml' },
    )
    .node('Constant', [], ['c'], {
      value: attr.tensor(createTensor('c_value', Float32Array.of(1, 10, 100), [3])),
    })
    .node('Mul', ['scaled_raw', 'c'], ['scaled'])
    .node(
      'LabelEncoder',
      ['label'],
      ['encoded'],
      {
        keys_strings: attr.strings(['a', 'b', 'ünï']),
        values_int64s: attr.ints([1, 2, 3n]),
        default_int64: attr.int(-1),
      },
      { domain: 'ai.onnx.ml', name: 'encode_label', docString: 'maps labels to ids' },
    )
    .node('Gather', ['y1', 'idx'], ['gathered'], { axis: attr.int(1) })
    .node('Cast', ['shift'], ['shift_float'], { to: attr.int(1) })
    .node('Add', ['gathered', 'shift_float'], ['picked'])
    .output('y1', 'FLOAT', ['batch', 2])
    .output('scaled', 'FLOAT', ['batch', 3])
    .output('encoded', 'INT64', ['batch'])
    .output('picked', 'FLOAT', ['batch', 1]);
}

describe('createGraphBuilder', () => {
  it('builds a model onnxruntime runs with the expected answers', async () => {
    const session = await ort.InferenceSession.create(buildFeatureModel().encodeModel(), {
      logSeverityLevel: 3,
    });
    const x = Float32Array.of(1, 2, 3, -1, 0.5, 4);
    const result = await session.run({
      x: new ort.Tensor('float32', x, [2, 3]),
      label: new ort.Tensor('string', ['b', 'zzz'], [2]),
    });
    await session.release();
    const W = [1, 2, 3, 4, 5, 6];
    const y1: number[] = [];
    for (let row = 0; row < 2; row++) {
      for (let col = 0; col < 2; col++) {
        let sum = 0;
        for (let k = 0; k < 3; k++) sum += x[row * 3 + k]! * W[k * 2 + col]!;
        y1.push(2 * sum + [0.5, -0.25][col]!);
      }
    }
    expect(Array.from(result['y1']!.data as Float32Array)).toEqual(y1.map(Math.fround));
    const scaled = Array.from(
      x,
      (value, index) => (value - [1, 0, -1][index % 3]!) * [0.5, 2, 1][index % 3]! * [1, 10, 100][index % 3]!,
    );
    expect(Array.from(result['scaled']!.data as Float32Array)).toEqual(scaled.map(Math.fround));
    expect(Array.from(result['encoded']!.data as BigInt64Array)).toEqual([2n, -1n]);
    expect(Array.from(result['picked']!.data as Float32Array)).toEqual(
      [y1[1]! + 10, y1[3]! + 10].map(Math.fround),
    );
  });

  it('writes the fields onnx.proto defines, as protobufjs decodes them', () => {
    const bytes = buildFeatureModel().encodeModel();
    const model = ModelProto.toObject(ModelProto.decode(bytes), {
      longs: String,
      enums: String,
      defaults: false,
    }) as Record<string, unknown> & { graph: DecodedGraph };
    expect(model).toMatchObject({
      irVersion: '8',
      producerName: 'slipway-test',
      producerVersion: '1.2.3',
      docString: 'every builder feature',
      opsetImport: [
        { domain: '', version: '17' },
        { domain: 'ai.onnx.ml', version: '3' },
      ],
      metadataProps: [
        { key: 'owner', value: 'ml-platform' },
        { key: 'feature_set', value: 'credit@abc123' },
      ],
    });
    const graph = model.graph;
    expect(graph.name).toBe('features');
    expect(graph.docString).toBe('graph doc');
    expect(graph.input[0]).toEqual({
      name: 'x',
      type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: '3' }] } } },
    });
    expect(graph.initializer.map((tensor) => [tensor.name, tensor.dataType, tensor.dims])).toEqual([
      ['W', 1, ['3', '2']],
      ['b', 11, ['2']],
      ['idx', 7, ['1']],
      ['shift', 6, ['1']],
    ]);
    expect(Array.from(new Float64Array(Uint8Array.from(graph.initializer[1]!.rawData!).buffer))).toEqual([
      0.5, -0.25,
    ]);
    const gemm = graph.node[0]!;
    expect(gemm).toMatchObject({ opType: 'Gemm', input: ['x', 'W'], output: ['xw'], name: 'Gemm_0' });
    expect(gemm.attribute).toEqual([
      { name: 'alpha', f: 2, type: 'FLOAT' },
      { name: 'transB', i: '0', type: 'INT' },
    ]);
    const encoder = graph.node.find((node) => node.opType === 'LabelEncoder')!;
    expect(encoder).toMatchObject({
      name: 'encode_label',
      domain: 'ai.onnx.ml',
      docString: 'maps labels to ids',
    });
    expect(encoder.attribute[0]!.type).toBe('STRINGS');
    expect(encoder.attribute[0]!.strings!.map((value) => new TextDecoder().decode(value))).toEqual([
      'a',
      'b',
      'ünï',
    ]);
    expect(encoder.attribute[1]).toEqual({ name: 'values_int64s', ints: ['1', '2', '3'], type: 'INTS' });
    const constant = graph.node.find((node) => node.opType === 'Constant')!;
    expect(constant.attribute[0]).toMatchObject({
      name: 'value',
      type: 'TENSOR',
      t: { name: 'c_value', dataType: 1, dims: ['3'] },
    });
  });

  it('reads back with readModelSignature', () => {
    const signature = readModelSignature(buildFeatureModel().encodeModel());
    expect(signature).toMatchObject({
      irVersion: 8,
      producerName: 'slipway-test',
      producerVersion: '1.2.3',
      graphName: 'features',
      docString: 'every builder feature',
      metadata: { owner: 'ml-platform', feature_set: 'credit@abc123' },
      opsets: [
        { domain: '', version: 17 },
        { domain: 'ai.onnx.ml', version: 3 },
      ],
    });
    expect(signature.inputs).toEqual([
      {
        name: 'x',
        kind: 'tensor',
        onnxType: 'FLOAT',
        datatype: 'FP32',
        shape: [-1, 3],
        dimParams: ['batch', ''],
        rankKnown: true,
      },
      {
        name: 'label',
        kind: 'tensor',
        onnxType: 'STRING',
        datatype: 'BYTES',
        shape: [-1],
        dimParams: ['batch'],
        rankKnown: true,
      },
    ]);
    expect(signature.outputs.map((output) => [output.name, output.datatype, output.shape])).toEqual([
      ['y1', 'FP32', [-1, 2]],
      ['scaled', 'FP32', [-1, 3]],
      ['encoded', 'INT64', [-1]],
      ['picked', 'FP32', [-1, 1]],
    ]);
  });

  it('is deterministic: the same calls give the same bytes', () => {
    expect(buildFeatureModel().encodeModel()).toEqual(buildFeatureModel().encodeModel());
  });

  it('declares non-tensor values, unknown ranks and unnamed dynamic dims', async () => {
    const bytes = createGraphBuilder()
      .opset('', 17)
      .opset('ai.onnx.ml', 3)
      .input('features', { kind: 'map', keyType: 'STRING', value: { kind: 'tensor', elemType: 'FLOAT' } })
      .input('anything', 'DOUBLE')
      .input('rows', 'INT64', [null, 4])
      .node(
        'DictVectorizer',
        ['features'],
        ['dense'],
        { string_vocabulary: attr.strings(['a', 'b']) },
        { domain: 'ai.onnx.ml' },
      )
      .node('SequenceConstruct', ['dense'], ['dense_seq'])
      .node('Identity', ['anything'], ['same'])
      .node('Identity', ['rows'], ['rows_out'])
      .output('dense', 'FLOAT', [1, 2])
      .output('dense_seq', { kind: 'sequence', elem: { kind: 'tensor', elemType: 'FLOAT' } })
      .output('same', 'DOUBLE')
      .output('rows_out', 'INT64', [null, 4])
      .encodeModel();
    const signature = readModelSignature(bytes);
    expect(
      signature.inputs.map((input) => [
        input.name,
        input.kind,
        input.datatype,
        input.shape,
        input.dimParams,
        input.rankKnown,
      ]),
    ).toEqual([
      ['features', 'map(string,tensor(float))', '', [], [], false],
      ['anything', 'tensor', 'FP64', [], [], false],
      ['rows', 'tensor', 'INT64', [-1, 4], ['', ''], true],
    ]);
    expect(signature.outputs[1]).toMatchObject({
      name: 'dense_seq',
      kind: 'seq(tensor(float))',
      datatype: '',
    });

    const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    expect(session.inputMetadata.map((meta) => meta.isTensor)).toEqual([false, true, true]);
    expect(session.inputMetadata[2]).toMatchObject({ type: 'int64', shape: ['', 4] });
    expect(session.outputMetadata[1]!.isTensor).toBe(false);
    await session.release();
  });

  it('writes optional and nested types that the reader names like onnxruntime does', () => {
    const bytes = encodeModel({
      irVersion: 9,
      opsets: [{ domain: '', version: 18 }],
      graph: {
        name: 'types',
        nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
        inputs: [
          {
            name: 'x',
            type: {
              kind: 'optional',
              elem: { kind: 'sequence', elem: { kind: 'tensor', elemType: 'INT64', shape: [] } },
            },
          },
        ],
        outputs: [
          {
            name: 'y',
            type: {
              kind: 'sequence',
              elem: { kind: 'map', keyType: 'INT64', value: { kind: 'tensor', elemType: 'DOUBLE' } },
            },
          },
        ],
      },
    });
    const signature = readModelSignature(bytes);
    expect(signature.inputs[0]!.kind).toBe('optional(seq(tensor(int64)))');
    expect(signature.outputs[0]!.kind).toBe('seq(map(int64,tensor(double)))');
  });

  it('leaves out initializers listed as inputs, as older exporters wrote them', () => {
    const weight = createTensor('w', Float32Array.of(2), [1]);
    const bytes = encodeModel({
      irVersion: 3,
      opsets: [{ domain: '', version: 8 }],
      graph: {
        name: 'legacy',
        nodes: [{ opType: 'Mul', inputs: ['x', 'w'], outputs: ['y'] }],
        initializers: [weight],
        inputs: [
          { name: 'x', type: { kind: 'tensor', elemType: 'FLOAT', shape: [1] } },
          { name: 'w', type: { kind: 'tensor', elemType: 'FLOAT', shape: [1] } },
        ],
        outputs: [{ name: 'y', type: { kind: 'tensor', elemType: 'FLOAT', shape: [1] } }],
      },
    });
    expect(readModelSignature(bytes).inputs.map((input) => input.name)).toEqual(['x']);
  });

  it('encodes string, bool and float16 tensors', () => {
    expect(createTensor('s', ['a', 'bé'], [2])).toMatchObject({
      dataType: 'STRING',
      stringData: ['a', 'bé'],
    });
    expect(createTensor('flags', Uint8Array.of(1, 0), [2], 'BOOL')).toMatchObject({
      dataType: 'BOOL',
      rawData: Uint8Array.of(1, 0),
    });
    expect(createTensor('half', Uint16Array.of(0x3c00), [1], 'FLOAT16').rawData).toEqual(
      Uint8Array.of(0x00, 0x3c),
    );
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      'an undefined node input',
      () =>
        createGraphBuilder()
          .input('x', 'FLOAT', [1])
          .node('Relu', ['nope'], ['y'])
          .output('y', 'FLOAT', [1])
          .build(),
      /node "Relu_0" \(Relu\) reads "nope", which is not a graph input/,
    ],
    [
      'a node used before its input exists',
      () =>
        createGraphBuilder()
          .input('x', 'FLOAT', [1])
          .node('Relu', ['h'], ['y'])
          .node('Relu', ['x'], ['h'])
          .output('y', 'FLOAT', [1])
          .build(),
      /reads "h"/,
    ],
    [
      'a duplicate value name',
      () =>
        createGraphBuilder()
          .input('x', 'FLOAT', [1])
          .node('Relu', ['x'], ['x'])
          .output('x', 'FLOAT', [1])
          .build(),
      /reuses the name "x" \(already graph input "x"\)/,
    ],
    [
      'an output nobody produces',
      () => createGraphBuilder().input('x', 'FLOAT', [1]).output('y', 'FLOAT', [1]).build(),
      /graph output "y" is not produced/,
    ],
    ['no outputs', () => createGraphBuilder().input('x', 'FLOAT', [1]).build(), /declares no outputs/],
    [
      'a domain without opset',
      () =>
        createGraphBuilder()
          .input('x', 'FLOAT', [1])
          .node('Binarizer', ['x'], ['y'], {}, { domain: 'ai.onnx.ml' })
          .output('y', 'FLOAT', [1])
          .build(),
      /call opset\('ai\.onnx\.ml', <version>\)/,
    ],
    [
      'a tensor of the wrong size',
      () => createGraphBuilder().initializer('w', Float32Array.of(1, 2, 3), [2, 2]),
      /shape \[2, 2\] holds 4 elements but 3 were given/,
    ],
    [
      'a type the array cannot hold',
      () => createTensor('w', Float32Array.of(1), [1], 'DOUBLE'),
      /a Float32Array \(4 bytes per element\) cannot hold DOUBLE/,
    ],
    [
      'a negative dimension',
      () => createGraphBuilder().input('x', 'FLOAT', [-1, 3]),
      /use a name such as 'batch' or null/,
    ],
    ['a fractional int attribute', () => attr.int(1.5), /must be an integer/],
  ])('rejects %s', (_label, act, message) => {
    expect(act).toThrow(InvalidModelSpecError);
    expect(act).toThrow(message);
  });
});
