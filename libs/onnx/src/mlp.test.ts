import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { InvalidModelSpecError } from './errors.js';
import { buildMlp, MLP_PRESETS, type BuiltMlp, type MlpOptions } from './mlp.js';
import { readModelSignature } from './model-signature.js';
import { createSeededRandom } from './seeded-random.js';

/** Plain forward pass in float64 over the model's float32 weights. */
function forward(mlp: BuiltMlp, row: Float32Array): number[] {
  let values = Array.from(row);
  for (const layer of mlp.layers) {
    const next: number[] = [];
    for (let out = 0; out < layer.outputSize; out++) {
      let sum = layer.bias[out]!;
      for (let k = 0; k < layer.inputSize; k++)
        sum += values[k]! * layer.weights[k * layer.outputSize + out]!;
      next.push(sum);
    }
    switch (layer.activation) {
      case 'relu':
        values = next.map((value) => Math.max(0, value));
        break;
      case 'tanh':
        values = next.map(Math.tanh);
        break;
      case 'sigmoid':
        values = next.map((value) => 1 / (1 + Math.exp(-value)));
        break;
      case 'softmax': {
        const max = Math.max(...next);
        const exps = next.map((value) => Math.exp(value - max));
        const total = exps.reduce((a, b) => a + b, 0);
        values = exps.map((value) => value / total);
        break;
      }
      case 'none':
        values = next;
    }
  }
  return values;
}

async function runOrt(mlp: BuiltMlp, rows: Float32Array, batch: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(mlp.bytes, { logSeverityLevel: 3 });
  try {
    const result = await session.run({
      [mlp.inputName]: new ort.Tensor('float32', rows, [batch, mlp.inputSize]),
    });
    return result[mlp.outputName]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

function randomRows(batch: number, width: number, seed: number): Float32Array {
  const random = createSeededRandom(seed);
  return Float32Array.from({ length: batch * width }, () => random.normal());
}

describe('buildMlp', () => {
  it.each<[string, MlpOptions]>([
    ['tiny preset (relu, sigmoid)', MLP_PRESETS.tiny],
    [
      'tanh with softmax over 3 classes',
      {
        inputSize: 12,
        hidden: [16, 8],
        outputSize: 3,
        activation: 'tanh',
        outputActivation: 'softmax',
        seed: 5,
      },
    ],
    [
      'a linear output and no hidden layer',
      { inputSize: 7, hidden: [], outputSize: 2, activation: 'relu', outputActivation: 'none', seed: 9 },
    ],
  ])('%s: onnxruntime matches a plain forward pass within 1e-5', async (_label, options) => {
    const mlp = buildMlp(options);
    const batch = 64;
    const rows = randomRows(batch, options.inputSize, 42);
    const actual = await runOrt(mlp, rows, batch);
    expect(actual).toHaveLength(batch * options.outputSize);
    for (let row = 0; row < batch; row++) {
      const expected = forward(mlp, rows.subarray(row * options.inputSize, (row + 1) * options.inputSize));
      expected.forEach((value, out) => {
        expect(Math.abs(actual[row * options.outputSize + out]! - value)).toBeLessThan(1e-5);
      });
    }
  });

  it('is deterministic in its seed', () => {
    expect(buildMlp(MLP_PRESETS.tiny).bytes).toEqual(buildMlp(MLP_PRESETS.tiny).bytes);
    expect(buildMlp({ ...MLP_PRESETS.tiny, seed: 2 }).bytes).not.toEqual(buildMlp(MLP_PRESETS.tiny).bytes);
  });

  it('has the signature a client expects', () => {
    const signature = readModelSignature(buildMlp(MLP_PRESETS.tiny).bytes);
    expect(signature.inputs).toEqual([
      {
        name: 'input',
        kind: 'tensor',
        onnxType: 'FLOAT',
        datatype: 'FP32',
        shape: [-1, 30],
        dimParams: ['batch', ''],
        rankKnown: true,
      },
    ]);
    expect(signature.outputs).toEqual([
      {
        name: 'output',
        kind: 'tensor',
        onnxType: 'FLOAT',
        datatype: 'FP32',
        shape: [-1, 1],
        dimParams: ['batch', ''],
        rankKnown: true,
      },
    ]);
    expect(signature.opsets).toEqual([{ domain: '', version: 17 }]);
  });

  it('builds the heavy benchmark model, which loads and runs', async () => {
    const mlp = buildMlp(MLP_PRESETS.heavy);
    const parameters = mlp.layers.reduce(
      (total, layer) => total + layer.weights.length + layer.bias.length,
      0,
    );
    expect(parameters).toBeGreaterThan(2_000_000);
    expect(mlp.bytes.length).toBeGreaterThan(parameters * 4);
    expect(readModelSignature(mlp.bytes).inputs[0]!.shape).toEqual([-1, 256]);
    const rows = randomRows(2, 256, 3);
    const actual = await runOrt(mlp, rows, 2);
    [0, 1].forEach((row) => {
      expect(
        Math.abs(actual[row]! - forward(mlp, rows.subarray(row * 256, (row + 1) * 256))[0]!),
      ).toBeLessThan(1e-5);
    });
  });

  it('rejects sizes that are not positive integers', () => {
    expect(() => buildMlp({ ...MLP_PRESETS.tiny, hidden: [64, 0] })).toThrow(InvalidModelSpecError);
    expect(() => buildMlp({ ...MLP_PRESETS.tiny, inputSize: 2.5 })).toThrow(
      /inputSize must be a positive integer/,
    );
  });
});
