// Conformance over gRPC: every ONNX node test, the MNIST data sets and the tabular models of the
// shared corpus, served by a worker in local mode on a temporary repository of symlinks, through
// ModelInfer with typed and raw contents, against the upstream reference outputs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { SlipwayError } from '@slipway/service-kit';
import { conformanceDir, createTempDir, skipWithoutConformance, type TempDir } from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addModel, startLocalWorker, type LocalWorker } from './testing/fixtures.js';
import {
  expectTensorClose,
  fromReference,
  makeRequest,
  readOutput,
  readReferenceTensors,
  type PlainTensor,
  type ReferenceCase,
} from '@slipway/testing';

const dir = conformanceDir();
const skip = skipWithoutConformance();
const modelsDir = (...parts: string[]): string => path.join(dir as string, 'models', ...parts);

const references: Record<string, ReferenceCase> = dir ? readReferenceTensors(dir) : {};
/** Reference data sets by model path (`onnx-node-tests/test_abs/model.onnx`). */
const byModel = new Map<string, [string, ReferenceCase][]>();
for (const [key, ref] of Object.entries(references)) {
  byModel.set(ref.model, [...(byModel.get(ref.model) ?? []), [key, ref]]);
}

const TABULAR_SERVED = [
  ['onnxruntime', 'logreg_iris'],
  ['onnxruntime', 'sklearn_bin_voting_classifier_soft'],
  ['onnxruntime', 'LabelEncoder'],
  ['onnxruntime', 'tree_ensemble_as_tensor'],
  ['onnxruntime_go', 'sklearn_randomforest'],
] as const;
const TABULAR_REFUSED = [
  [
    'pipeline_vectorize',
    'model "pipeline_vectorize" input "float_input" is map(int64,tensor(float)); only tensor inputs can be served',
  ],
  ['zipmap_stringfloat', 'model "zipmap_stringfloat" has no output that can be served'],
  ['zipmap_int64float', 'model "zipmap_int64float" has no output that can be served'],
] as const;

/**
 * Corpus file → served model name. Folder names become repository names; anything outside
 * `[A-Za-z0-9_.-]` would be replaced, so the mapping is kept rather than assumed.
 */
const servedName = new Map<string, string>();
const nameFor = (modelPath: string): string => {
  const parts = modelPath.split('/');
  const base = modelPath.startsWith('tabular/')
    ? path.basename(modelPath, '.onnx')
    : (parts.at(-2) as string);
  const name = base.replace(/[^A-Za-z0-9_.-]/g, '_');
  servedName.set(modelPath, name);
  return name;
};

interface JsonTensor {
  readonly dtype?: string;
  readonly shape?: number[];
  readonly data: unknown;
}
interface TabularCase {
  readonly inputs: Record<string, JsonTensor>;
  readonly outputs: Record<string, JsonTensor>;
  readonly tolerance: { readonly rtol: number; readonly atol: number };
}
const DATATYPE: Record<string, string> = {
  float32: 'FP32',
  float64: 'FP64',
  int64: 'INT64',
  string: 'BYTES',
};
function plain(name: string, t: JsonTensor): PlainTensor {
  const datatype = DATATYPE[t.dtype as string] as string;
  const data = (t.data as (number | string)[]).map((v) => (datatype === 'INT64' ? BigInt(v) : v));
  return { name, datatype, shape: t.shape as number[], data };
}
function tabularCases(folder: string, name: string): TabularCase[] {
  const file = modelsDir('tabular', folder, `${name}.reference.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { cases: TabularCase[] }).cases;
}

async function failure(call: Promise<unknown>): Promise<SlipwayError> {
  const error = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(error instanceof SlipwayError)) throw new Error(`expected a failed call, got ${String(error)}`);
  return error;
}

describe.skipIf(skip)('conformance over gRPC', () => {
  let tmp: TempDir;
  let running: LocalWorker;

  beforeAll(async () => {
    tmp = await createTempDir('worker-conformance-');
    for (const modelPath of byModel.keys()) {
      await addModel(tmp.path, nameFor(modelPath), 1, { source: modelsDir(modelPath) });
    }
    for (const [folder, name] of TABULAR_SERVED) {
      const modelPath = `tabular/${folder}/${name}.onnx`;
      await addModel(tmp.path, nameFor(modelPath), 1, { source: modelsDir(modelPath) });
    }
    for (const [name] of TABULAR_REFUSED) {
      const modelPath = `tabular/onnxruntime/${name}.onnx`;
      await addModel(tmp.path, nameFor(modelPath), 1, { source: modelsDir(modelPath) });
    }
    running = await startLocalWorker(tmp.path);
  }, 180_000);

  afterAll(async () => {
    await running?.stop();
    await tmp?.cleanup();
  });

  it('covers every onnx-node-test and the three MNIST data sets, each under a distinct name', () => {
    expect([...byModel.keys()].filter((m) => m.startsWith('onnx-node-tests/'))).toHaveLength(34);
    expect(byModel.get('nn/mnist-8/model.onnx')).toHaveLength(3);
    expect(new Set(servedName.values()).size).toBe(servedName.size);
  });

  describe.each([...byModel.keys()].sort())('%s', (modelPath) => {
    it.each(['typed', 'raw'] as const)('matches the reference outputs with %s contents', async (form) => {
      const name = servedName.get(modelPath) as string;
      expect((await running.client.modelReady({ name, version: '1' })).ready).toBe(true);
      for (const [key, ref] of byModel.get(modelPath) as [string, ReferenceCase][]) {
        const request = makeRequest(ref.inputs.map(fromReference), form, { modelName: name, id: key });
        const response = await running.client.modelInfer(request);
        expect(response).toMatchObject({ modelName: name, modelVersion: '1', id: key });
        expect(response.outputs.map((o) => o.name)).toEqual(ref.outputs.map((o) => o.name));
        for (const output of ref.outputs.map(fromReference)) {
          expectTensorClose(readOutput(response, output.name), output);
        }
      }
    });
  });

  it.each(TABULAR_SERVED)(
    '%s/%s answers its upstream reference cases, typed and raw',
    async (folder, file) => {
      const name = servedName.get(`tabular/${folder}/${file}.onnx`) as string;
      for (const c of tabularCases(folder, file)) {
        const tensorOutputs = Object.entries(c.outputs).filter(([, t]) => t.dtype !== undefined);
        expect(tensorOutputs.length).toBeGreaterThan(0);
        for (const form of ['typed', 'raw'] as const) {
          const inputs = Object.entries(c.inputs).map(([n, t]) => plain(n, t));
          const response = await running.client.modelInfer(makeRequest(inputs, form, { modelName: name }));
          for (const [outName, t] of tensorOutputs) {
            expectTensorClose(readOutput(response, outName), plain(outName, t), c.tolerance);
          }
        }
      }
    },
  );

  it('feeds the FP64 tree ensemble FP64 and refuses FP32 rather than downcasting', async () => {
    const name = 'tree_ensemble_as_tensor';
    const metadata = await running.client.modelMetadata({ name, version: '' });
    expect(metadata.inputs).toEqual([{ name: 'X', datatype: 'FP64', shape: [-1n, 4n] }]);
    const [first] = tabularCases('onnxruntime', name);
    const x = plain('X', first?.inputs['X'] as JsonTensor);
    for (const form of ['typed', 'raw'] as const) {
      const response = await running.client.modelInfer(makeRequest([x], form, { modelName: name }));
      // Row 3 differs when the input is rounded to FP32 on the way.
      expect(readOutput(response, 'variable').data).toEqual([
        0.7284910678863525, 0.7284910678863525, 0.9134243130683899,
      ]);
    }
    const refused = await failure(
      running.client.modelInfer(makeRequest([{ ...x, datatype: 'FP32' }], 'typed', { modelName: name })),
    );
    expect(refused.code).toBe(status.INVALID_ARGUMENT);
    expect(refused.message).toBe(
      'input "X": datatype FP32 does not match the model\'s FP64; send FP64 (values are never converted)',
    );
  });

  it.each(TABULAR_REFUSED)('refuses %s at load and says why on every call', async (name, reason) => {
    expect((await running.client.modelReady({ name, version: '' })).ready).toBe(false);
    const metadata = await failure(running.client.modelMetadata({ name, version: '' }));
    expect(metadata.code).toBe(status.FAILED_PRECONDITION);
    expect(metadata.message).toContain(reason);
    const infer = await failure(
      running.client.modelInfer(makeRequest([], 'typed', { modelName: name, modelVersion: '1' })),
    );
    expect(infer.code).toBe(status.FAILED_PRECONDITION);
    expect(infer.message.startsWith(`model "${name}" version 1 failed to load and does not serve: `)).toBe(
      true,
    );
    expect(infer.message).toContain(reason);
  });
});
