import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { conformanceDir, skipWithoutConformance } from '@slipway/testing';
import ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { afterAll, describe, expect, it } from 'vitest';
import { onnxTypeFromCode, onnxTypeToOrtType, ortTypeToDatatype } from './data-types.js';
import { InvalidOnnxModelError } from './errors.js';
import { readModelSignature, type TensorSignature } from './model-signature.js';
import { createSeededRandom } from './seeded-random.js';

const onnxProto = protobuf.loadSync(new URL('../proto/onnx.proto', import.meta.url).pathname);
const ModelProto = onnxProto.lookupType('onnx.ModelProto');

const modelsDir = (() => {
  const dir = conformanceDir();
  return dir === undefined ? undefined : path.join(dir, 'models');
})();
const modelFiles = modelsDir
  ? readdirSync(modelsDir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.onnx'))
      .sort()
  : [];
const readModel = (file: string) => readFileSync(path.join(modelsDir!, file));

/** The shape as onnxruntime reports it: numbers, or the dim_param ('' when unnamed) for dynamic dims. */
function ortStyleShape(signature: TensorSignature): (number | string)[] {
  return signature.shape.map((dim, index) => (dim >= 0 ? dim : signature.dimParams[index]!));
}

function expectMatchesOrt(
  signatures: readonly TensorSignature[],
  metadata: readonly ort.InferenceSession.ValueMetadata[],
) {
  expect(signatures.map((signature) => signature.name)).toEqual(metadata.map((meta) => meta.name));
  metadata.forEach((meta, index) => {
    const signature = signatures[index]!;
    if (!meta.isTensor) {
      expect(signature.kind).not.toBe('tensor');
      expect(signature.datatype).toBe('');
      return;
    }
    expect(signature.kind).toBe('tensor');
    expect(onnxTypeToOrtType(signature.onnxType)).toBe(meta.type);
    expect(signature.datatype).toBe(ortTypeToDatatype(meta.type));
    expect(ortStyleShape(signature)).toEqual(meta.shape);
    if (!signature.rankKnown) expect(signature.shape).toEqual([]);
  });
}

interface DecodedValueInfo {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: string; dimParam?: string }[] } } };
}

/** The same facts read by protobufjs from the vendored onnx.proto: a second, independent decoder. */
function signatureViaProtobufjs(bytes: Uint8Array) {
  const model = ModelProto.toObject(ModelProto.decode(bytes), { longs: String, defaults: false }) as {
    irVersion: string;
    graph: { input?: DecodedValueInfo[]; output?: DecodedValueInfo[]; initializer?: { name: string }[] };
  };
  const initializers = new Set((model.graph.initializer ?? []).map((tensor) => tensor.name));
  const describe = (info: DecodedValueInfo) => ({
    name: info.name,
    onnxType: info.type?.tensorType ? (onnxTypeFromCode(info.type.tensorType.elemType ?? 0) ?? '') : '',
    shape: info.type?.tensorType?.shape
      ? (info.type.tensorType.shape.dim ?? []).map((dim) =>
          dim.dimValue === undefined ? -1 : Number(dim.dimValue),
        )
      : [],
  });
  return {
    irVersion: Number(model.irVersion),
    inputs: (model.graph.input ?? []).filter((info) => !initializers.has(info.name)).map(describe),
    outputs: (model.graph.output ?? []).map(describe),
    listedInitializerInputs: (model.graph.input ?? []).filter((info) => initializers.has(info.name)).length,
  };
}

const brief = (signature: TensorSignature) => ({
  name: signature.name,
  onnxType: signature.onnxType,
  shape: signature.shape,
});

describe.skipIf(skipWithoutConformance())('readModelSignature on the conformance corpus', () => {
  const sessions: ort.InferenceSession[] = [];
  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.release()));
  });

  it('finds every model of the corpus', () => {
    expect(modelFiles.length).toBeGreaterThanOrEqual(43);
  });

  it.each(modelFiles)('%s: same inputs and outputs as onnxruntime and protobufjs', async (file) => {
    const bytes = readModel(file);
    const signature = readModelSignature(bytes);
    const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    sessions.push(session);
    expect(signature.inputs.map((input) => input.name)).toEqual(session.inputNames);
    expect(signature.outputs.map((output) => output.name)).toEqual(session.outputNames);
    expectMatchesOrt(signature.inputs, session.inputMetadata);
    expectMatchesOrt(signature.outputs, session.outputMetadata);

    const reference = signatureViaProtobufjs(bytes);
    expect(signature.irVersion).toBe(reference.irVersion);
    expect(signature.inputs.map(brief)).toEqual(reference.inputs);
    expect(signature.outputs.map(brief)).toEqual(reference.outputs);
  });

  it('agrees with the decoded test tensors in pb_reference_tensors.json', () => {
    type RefTensor = { name: string; onnx_dtype: string; v2_datatype: string; shape: number[] };
    const references = JSON.parse(
      readFileSync(path.join(modelsDir!, 'pb_reference_tensors.json'), 'utf8'),
    ) as Record<string, { model: string; inputs: RefTensor[]; outputs: RefTensor[] }>;
    const expectFits = (signatures: readonly TensorSignature[], tensors: RefTensor[]) => {
      expect(signatures.map((signature) => signature.name)).toEqual(tensors.map((tensor) => tensor.name));
      tensors.forEach((tensor, index) => {
        const signature = signatures[index]!;
        expect(signature.onnxType).toBe(tensor.onnx_dtype);
        expect(signature.datatype).toBe(tensor.v2_datatype);
        if (!signature.rankKnown) return;
        expect(signature.shape).toHaveLength(tensor.shape.length);
        signature.shape.forEach((dim, axis) => {
          if (dim >= 0) expect(tensor.shape[axis]).toBe(dim);
        });
      });
    };
    const entries = Object.values(references);
    expect(entries.length).toBeGreaterThan(30);
    for (const entry of entries) {
      const signature = readModelSignature(readModel(entry.model));
      expectFits(signature.inputs, entry.inputs);
      expectFits(signature.outputs, entry.outputs);
    }
  });

  it('describes the map input of the DictVectorizer pipeline as a map, not a tensor', () => {
    const signature = readModelSignature(readModel('tabular/onnxruntime/pipeline_vectorize.onnx'));
    expect(signature.inputs).toEqual([
      {
        name: 'float_input',
        kind: 'map(int64,tensor(float))',
        onnxType: '',
        datatype: '',
        shape: [],
        dimParams: [],
        rankKnown: false,
      },
    ]);
    expect(signature.outputs[0]).toMatchObject({
      name: 'variable1',
      kind: 'tensor',
      datatype: 'FP32',
      shape: [1, 1],
    });
  });

  it.each([
    ['tabular/onnxruntime/zipmap_stringfloat.onnx', 'Z', 'seq(map(string,tensor(float)))'],
    ['tabular/onnxruntime/zipmap_int64float.onnx', 'Z', 'seq(map(int64,tensor(float)))'],
    ['tabular/onnxruntime/logreg_iris.onnx', 'probabilities', 'seq(map(int64,tensor(float)))'],
    [
      'tabular/onnxruntime/sklearn_bin_voting_classifier_soft.onnx',
      'output_probability',
      'seq(map(string,tensor(float)))',
    ],
    [
      'tabular/onnxruntime_go/sklearn_randomforest.onnx',
      'output_probability',
      'seq(map(int64,tensor(float)))',
    ],
  ])('%s: ZipMap output %s is %s', (file, name, kind) => {
    const output = readModelSignature(readModel(file)).outputs.find((candidate) => candidate.name === name);
    expect(output).toMatchObject({ kind, datatype: '', onnxType: '' });
  });

  it('marks an input declared without any shape as rank-unknown', () => {
    const [input] = readModelSignature(readModel('tabular/onnxruntime/zipmap_stringfloat.onnx')).inputs;
    expect(input).toEqual({
      name: 'X',
      kind: 'tensor',
      onnxType: 'FLOAT',
      datatype: 'FP32',
      shape: [],
      dimParams: [],
      rankKnown: false,
    });
  });

  it('keeps scalars (rank 0) apart from unknown rank', () => {
    const inputs = readModelSignature(readModel('onnx-node-tests/test_clip_example/model.onnx')).inputs;
    expect(inputs.map((input) => [input.name, input.shape, input.rankKnown])).toEqual([
      ['x', [3], true],
      ['min', [], true],
      ['max', [], true],
    ]);
  });

  it('reports dynamic dimensions without a name as -1 with an empty dim param', () => {
    const signature = readModelSignature(
      readModel('tabular/onnxruntime/sklearn_bin_voting_classifier_soft.onnx'),
    );
    expect(signature.inputs[0]).toMatchObject({ name: 'input', shape: [-1, 2], dimParams: ['', ''] });
    expect(signature.outputs[0]).toMatchObject({
      name: 'output_label',
      onnxType: 'STRING',
      datatype: 'BYTES',
      shape: [-1],
    });
  });

  it('leaves out initializers that an IR 3 model lists among its inputs', () => {
    const bytes = readModel('nn/mnist-8/model.onnx');
    expect(signatureViaProtobufjs(bytes).listedInitializerInputs).toBeGreaterThan(0);
    const signature = readModelSignature(bytes);
    expect(signature).toMatchObject({
      irVersion: 3,
      producerName: 'CNTK',
      opsets: [{ domain: '', version: 8 }],
    });
    expect(signature.inputs.map(brief)).toEqual([
      { name: 'Input3', onnxType: 'FLOAT', shape: [1, 1, 28, 28] },
    ]);
  });

  it('reads producer and operator sets', () => {
    expect(readModelSignature(readModel('tabular/onnxruntime/tree_ensemble_as_tensor.onnx'))).toMatchObject({
      irVersion: 8,
      producerName: 'skl2onnx',
      opsets: [
        { domain: '', version: 16 },
        { domain: 'ai.onnx.ml', version: 3 },
      ],
    });
    expect(
      readModelSignature(readModel('onnx-node-tests/test_cast_FLOAT_to_FLOAT16/model.onnx')).outputs[0],
    ).toMatchObject({
      onnxType: 'FLOAT16',
      datatype: 'FP16',
    });
  });

  it('rejects every truncated prefix of a real model', () => {
    const bytes = readModel('onnx-node-tests/test_add/model.onnx');
    for (let length = 1; length < bytes.length; length++) {
      expect(() => readModelSignature(bytes.subarray(0, length)), `prefix of ${length} bytes`).toThrow(
        InvalidOnnxModelError,
      );
    }
    const mnist = readModel('nn/mnist-8/model.onnx');
    expect(() => readModelSignature(mnist.subarray(0, mnist.length >> 1))).toThrow(/truncated/);
  });

  it('rejects an ONNX tensor file (another protobuf) with the field that gave it away', () => {
    const tensorFile = readModel('onnx-node-tests/test_add/test_data_set_0/input_0.pb');
    expect(() => readModelSignature(tensorFile)).toThrow(
      'not an ONNX model: ModelProto field 2 (producer_name) has wire type varint, expected length-delimited',
    );
  });

  it('rejects a JSON file', () => {
    const json = readModel('pb_reference_tensors.json');
    expect(() => readModelSignature(json)).toThrow(InvalidOnnxModelError);
  });
});

describe('readModelSignature on bytes that are not a model', () => {
  const encode = (fields: Record<string, unknown>) =>
    ModelProto.encode(ModelProto.fromObject(fields)).finish();
  const graph = {
    name: 'g',
    node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
    input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
    output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
  };
  const opsetImport = [{ domain: '', version: 17 }];

  it('accepts the minimal valid model these cases start from', () => {
    expect(readModelSignature(encode({ irVersion: 8, graph, opsetImport })).outputs[0]).toMatchObject({
      name: 'y',
      shape: [2],
    });
  });

  it.each<[string, Uint8Array, string | RegExp]>([
    ['empty input', new Uint8Array(0), 'not an ONNX model: the file is empty (0 bytes)'],
    ['text', new TextEncoder().encode('this is a plain text file, not a model'), /^not an ONNX model/],
    [
      'a PNG header',
      Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13),
      /^not an ONNX model/,
    ],
    ['a lone varint byte', Uint8Array.of(0x08), /truncated/],
    [
      'a model without ir_version',
      encode({ graph, opsetImport }),
      'not an ONNX model: field 1 (ir_version) missing',
    ],
    [
      'a model without graph',
      encode({ irVersion: 8, opsetImport }),
      'not an ONNX model: field 7 (graph) missing',
    ],
    ['a model without opset_import', encode({ irVersion: 8, graph }), /field 8 \(opset_import\) missing/],
    [
      'an empty graph',
      encode({ irVersion: 8, graph: { name: 'empty' }, opsetImport }),
      'not an ONNX model: graph "empty" has no nodes and no outputs',
    ],
    [
      'a graph without outputs',
      encode({ irVersion: 8, graph: { ...graph, output: [] }, opsetImport }),
      /declares no outputs/,
    ],
    [
      'an implausible IR version',
      encode({ irVersion: 123456, graph, opsetImport }),
      /ir_version 123456 is not a plausible ONNX IR version/,
    ],
    [
      'an unnamed input',
      encode({ irVersion: 8, graph: { ...graph, input: [{ type: graph.input[0]!.type }] }, opsetImport }),
      /GraphProto.input\[0\] has no name/,
    ],
  ])('rejects %s', (_label, bytes, message) => {
    expect(() => readModelSignature(bytes)).toThrow(InvalidOnnxModelError);
    expect(() => readModelSignature(bytes)).toThrow(message);
  });

  it('rejects random bytes with InvalidOnnxModelError, never another error', () => {
    const random = createSeededRandom(7);
    for (let trial = 0; trial < 500; trial++) {
      const bytes = Uint8Array.from({ length: 1 + random.int(200) }, () => random.int(256));
      expect(() => readModelSignature(bytes)).toThrow(InvalidOnnxModelError);
    }
  });

  it('names the nested field and the byte offset when a nested message is cut short', () => {
    const bytes = encode({ irVersion: 8, graph, opsetImport });
    // Claim a longer graph than the file holds by rewriting the graph's length prefix.
    const graphTag = bytes.indexOf(0x3a);
    const tampered = Uint8Array.from(bytes);
    tampered[graphTag + 1] = 0x7f;
    expect(() => readModelSignature(tampered)).toThrow(
      /ModelProto field 7 \(graph\) at byte \d+ declares 127 bytes but only \d+ remain/,
    );
  });
});
