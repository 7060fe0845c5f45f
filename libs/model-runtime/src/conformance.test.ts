import path from 'node:path';
import { conformanceDir, skipWithoutConformance } from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from './model-loader.js';
import {
  expectTensorClose,
  fromReference,
  makeRequest,
  readOutput,
  readReferenceTensors,
  type ReferenceCase,
} from '@slipway/testing';

// Every ONNX node test and MNIST data set runs through codec + session in typed and in raw form
// and is compared with the upstream reference outputs.
const dir = conformanceDir();
const skip = skipWithoutConformance();
const references: Record<string, ReferenceCase> = dir ? readReferenceTensors(dir) : {};
const byModel = new Map<string, [string, ReferenceCase][]>();
for (const [key, ref] of Object.entries(references)) {
  const list = byModel.get(ref.model) ?? [];
  list.push([key, ref]);
  byModel.set(ref.model, list);
}

describe.skipIf(skip)('conformance: ONNX node tests and MNIST against reference outputs', () => {
  const loaded: LoadedModel[] = [];
  afterAll(async () => {
    await Promise.all(loaded.map((m) => m.close()));
  });

  it('covers every model of onnx-node-tests and all three MNIST data sets', () => {
    const models = [...byModel.keys()];
    expect(models.filter((m) => m.startsWith('onnx-node-tests/'))).toHaveLength(34);
    expect(byModel.get('nn/mnist-8/model.onnx')).toHaveLength(3);
  });

  describe.each([...byModel.keys()].sort())('%s', (modelPath) => {
    const cases = byModel.get(modelPath) as [string, ReferenceCase][];
    let model: LoadedModel;
    beforeAll(async () => {
      const name = modelPath.split('/').at(-2) as string;
      model = await loadModel({ name, version: '1', path: path.join(dir as string, 'models', modelPath) });
      loaded.push(model);
    });

    it.each(['typed', 'raw', 'raw-unaligned'] as const)(
      'matches the reference with %s inputs',
      async (form) => {
        for (const [key, ref] of cases) {
          const response = await model.infer(makeRequest(ref.inputs.map(fromReference), form, { id: key }));
          expect(response.id).toBe(key);
          expect(response.outputs.map((o) => o.name)).toEqual(ref.outputs.map((o) => o.name));
          for (const expected of ref.outputs.map(fromReference)) {
            expectTensorClose(readOutput(response, expected.name), expected);
          }
        }
      },
    );
  });
});
