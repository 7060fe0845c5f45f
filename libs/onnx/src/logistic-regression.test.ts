import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { InvalidModelSpecError } from './errors.js';
import { buildLogisticRegression } from './logistic-regression.js';
import { readModelSignature } from './model-signature.js';
import { createSeededRandom } from './seeded-random.js';

describe('buildLogisticRegression', () => {
  it('computes sigmoid(x·w + b) for a few hundred random rows', async () => {
    const random = createSeededRandom(11);
    const weights = Float64Array.from({ length: 10 }, () => random.normal());
    const bias = -0.3;
    const model = buildLogisticRegression({ weights, bias });
    const batch = 300;
    const rows = Float32Array.from({ length: batch * 10 }, () => random.normal() * 2);

    const session = await ort.InferenceSession.create(model.bytes, { logSeverityLevel: 3 });
    const result = await session.run({ input: new ort.Tensor('float32', rows, [batch, 10]) });
    await session.release();
    const probability = result['probability']!;
    expect(probability.dims).toEqual([batch, 1]);
    for (let row = 0; row < batch; row++) {
      let logit = bias;
      // The model stores its coefficients as FP32.
      for (let k = 0; k < 10; k++) logit += rows[row * 10 + k]! * Math.fround(weights[k]!);
      expect(Math.abs((probability.data as Float32Array)[row]! - 1 / (1 + Math.exp(-logit)))).toBeLessThan(
        1e-6,
      );
    }
  });

  it('declares FP32 input [-1, n] and output probability [-1, 1]', () => {
    const signature = readModelSignature(buildLogisticRegression({ weights: [0.5, -1, 2], bias: 0.1 }).bytes);
    expect(signature.inputs.map((input) => [input.name, input.datatype, input.shape])).toEqual([
      ['input', 'FP32', [-1, 3]],
    ]);
    expect(signature.outputs.map((output) => [output.name, output.datatype, output.shape])).toEqual([
      ['probability', 'FP32', [-1, 1]],
    ]);
  });

  it('rejects empty or non-finite weights', () => {
    expect(() => buildLogisticRegression({ weights: [], bias: 0 })).toThrow(InvalidModelSpecError);
    expect(() => buildLogisticRegression({ weights: [1, Number.NaN], bias: 0 })).toThrow(/finite/);
  });
});
