import { readFileSync } from 'node:fs';
import path from 'node:path';
import { conformanceDir, skipWithoutConformance } from '@slipway/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FailedPreconditionError, InvalidArgumentError } from '@slipway/errors';
import { loadModel, type LoadedModel } from './model-loader.js';
import { expectTensorClose, makeRequest, readOutput, type PlainTensor } from '@slipway/testing';

// Tabular models (scikit-learn / LightGBM exports) with their upstream reference cases.
const dir = conformanceDir();
const skip = skipWithoutConformance();
const tabular = (...parts: string[]): string => path.join(dir as string, 'models', 'tabular', ...parts);

interface JsonTensor {
  readonly dtype?: string;
  readonly type?: string;
  readonly shape?: number[];
  readonly data: unknown;
}
interface ReferenceCaseJson {
  readonly model?: string;
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

function referenceCases(file: string): ReferenceCaseJson[] {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { cases: ReferenceCaseJson[] };
  return json.cases;
}

const loaded: LoadedModel[] = [];
async function load(file: string): Promise<LoadedModel> {
  const model = await loadModel({ name: path.basename(file, '.onnx'), version: '1', path: file });
  loaded.push(model);
  return model;
}

describe.skipIf(skip)('tabular models', () => {
  afterAll(async () => {
    await Promise.all(loaded.map((m) => m.close()));
  });

  const served = [
    ['onnxruntime', 'logreg_iris'],
    ['onnxruntime', 'sklearn_bin_voting_classifier_soft'],
    ['onnxruntime', 'LabelEncoder'],
    ['onnxruntime', 'tree_ensemble_as_tensor'],
    ['onnxruntime_go', 'sklearn_randomforest'],
  ] as const;

  it.each(served)(
    '%s/%s answers its reference cases on every tensor output, typed and raw',
    async (folder, name) => {
      const model = await load(tabular(folder, `${name}.onnx`));
      for (const c of referenceCases(tabular(folder, `${name}.reference.json`))) {
        const tensorOutputs = Object.entries(c.outputs).filter(([, t]) => t.dtype !== undefined);
        expect(tensorOutputs.length).toBeGreaterThan(0);
        for (const form of ['typed', 'raw'] as const) {
          const response = await model.infer(
            makeRequest(
              Object.entries(c.inputs).map(([n, t]) => plain(n, t)),
              form,
            ),
          );
          for (const [outName, t] of tensorOutputs)
            expectTensorClose(readOutput(response, outName), plain(outName, t), c.tolerance);
        }
      }
    },
  );

  it('feeds the FP64 tree ensemble FP64 (row 3 of case 1 depends on it) and refuses FP32 instead of converting', async () => {
    const model = await load(tabular('onnxruntime', 'tree_ensemble_as_tensor.onnx'));
    expect(model.signature.inputs[0]).toMatchObject({ name: 'X', datatype: 'FP64', shape: [-1, 4] });
    const [first] = referenceCases(tabular('onnxruntime', 'tree_ensemble_as_tensor.reference.json'));
    const x = plain('X', first?.inputs['X'] as JsonTensor);
    const response = await model.infer(makeRequest([x], 'typed'));
    expect(readOutput(response, 'variable').data).toEqual([
      0.7284910678863525, 0.7284910678863525, 0.9134243130683899,
    ]);
    await expect(model.infer(makeRequest([{ ...x, datatype: 'FP32' }], 'typed'))).rejects.toThrow(
      new InvalidArgumentError(
        'input "X": datatype FP32 does not match the model\'s FP64; send FP64 (values are never converted)',
      ),
    );
  });

  it('refuses the model whose input is a map, at load, saying why', async () => {
    const attempt = loadModel({
      name: 'pipeline_vectorize',
      version: '1',
      path: tabular('onnxruntime', 'pipeline_vectorize.onnx'),
    });
    await expect(attempt).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(attempt).rejects.toThrow(
      'model "pipeline_vectorize" input "float_input" is map(int64,tensor(float)); only tensor inputs can be served',
    );
  });

  it('serves the tensor outputs of ZipMap classifiers and says why the seq(map) output is skipped', async () => {
    const model = await load(tabular('onnxruntime', 'logreg_iris.onnx'));
    expect(model.signature.outputs.map((o) => o.name)).toEqual(['label']);
    expect(model.signature.skippedOutputs).toEqual([
      {
        name: 'probabilities',
        type: 'seq(map(int64,tensor(float)))',
        reason:
          'output "probabilities" is seq(map(int64,tensor(float))), which cannot travel as an Open Inference Protocol tensor; only the model\'s tensor outputs are served',
      },
    ]);
    const input: PlainTensor = {
      name: 'float_input',
      datatype: 'FP32',
      shape: [3, 2],
      data: [1, 2, 3, 4, 5, 6],
    };
    await expect(
      model.infer(makeRequest([input], 'typed', { outputs: [{ name: 'probabilities', parameters: {} }] })),
    ).rejects.toThrow(
      /^requested output "probabilities" cannot be served: output "probabilities" is seq\(map\(int64,tensor\(float\)\)\)/,
    );
    const forest = await load(tabular('onnxruntime_go', 'sklearn_randomforest.onnx'));
    expect(forest.signature.skippedOutputs.map((s) => [s.name, s.type])).toEqual([
      ['output_probability', 'seq(map(int64,tensor(float)))'],
    ]);
    expect(forest.metadata().outputs).toEqual([{ name: 'output_label', datatype: 'INT64', shape: [-1n] }]);
  });

  it.each(['zipmap_stringfloat', 'zipmap_int64float'])(
    'refuses %s, whose only output is a seq(map), at load',
    async (name) => {
      await expect(
        loadModel({ name, version: '1', path: tabular('onnxruntime', `${name}.onnx`) }),
      ).rejects.toThrow(
        new FailedPreconditionError(
          `model "${name}" has no output that can be served: output "Z" is seq(map(${name === 'zipmap_stringfloat' ? 'string' : 'int64'},tensor(float))), which cannot travel as an Open Inference Protocol tensor; only the model's tensor outputs are served`,
        ),
      );
    },
  );
});
