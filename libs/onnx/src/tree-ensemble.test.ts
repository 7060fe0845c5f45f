import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { InvalidModelSpecError } from './errors.js';
import { readModelSignature } from './model-signature.js';
import { createSeededRandom, type SeededRandom } from './seeded-random.js';
import {
  buildTreeEnsemble,
  type TreeEnsembleOptions,
  type TreeNodeSpec,
  type TreeSpec,
} from './tree-ensemble.js';

const FEATURES = 8;

function randomTree(random: SeededRandom, maxDepth: number): TreeSpec {
  const nodes: TreeNodeSpec[] = [];
  // Children are appended after their parent, so indices are not in depth-first order: a good test.
  const grow = (depth: number): number => {
    const index = nodes.length;
    nodes.push({ leafValue: 0 });
    if (depth === maxDepth || (depth > 1 && random.next() < 0.25)) {
      nodes[index] = { leafValue: random.uniform(-1, 1) };
      return index;
    }
    const featureId = random.int(FEATURES);
    const threshold = random.normal();
    const missingGoesLeft = random.next() < 0.5;
    const left = grow(depth + 1);
    const right = grow(depth + 1);
    nodes[index] = { featureId, threshold, left, right, missingGoesLeft };
    return index;
  };
  grow(0);
  return { nodes };
}

/** A hand-written tree walk in float32 comparisons, as the ONNX operator compares. */
function predict(options: TreeEnsembleOptions, row: Float32Array): number {
  let score = Math.fround(options.baseScore);
  for (const tree of options.trees) {
    let node = tree.nodes[0]!;
    while (node.leafValue === undefined) {
      const value = row[node.featureId!]!;
      const threshold = Math.fround(node.threshold!);
      const goesLeft = Number.isNaN(value)
        ? node.missingGoesLeft === true
        : options.comparison === 'LT'
          ? value < threshold
          : value <= threshold;
      node = tree.nodes[goesLeft ? node.left! : node.right!]!;
    }
    score += Math.fround(node.leafValue);
  }
  return options.postTransform === 'LOGISTIC' ? 1 / (1 + Math.exp(-score)) : score;
}

/** Random rows, with NaN and values exactly on thresholds mixed in. */
function randomRows(random: SeededRandom, options: TreeEnsembleOptions, batch: number): Float32Array {
  const thresholds: [number, number][] = options.trees.flatMap((tree) =>
    tree.nodes
      .filter((node) => node.leafValue === undefined)
      .map((node) => [node.featureId!, node.threshold!] as [number, number]),
  );
  const rows = Float32Array.from({ length: batch * FEATURES }, () => random.normal());
  for (let row = 0; row < batch; row++) {
    for (let hits = 0; hits < 3; hits++) {
      const [feature, threshold] = thresholds[random.int(thresholds.length)]!;
      if (random.next() < 0.3) rows[row * FEATURES + feature] = threshold;
    }
    if (random.next() < 0.2) rows[row * FEATURES + random.int(FEATURES)] = Number.NaN;
  }
  return rows;
}

async function runOrt(
  bytes: Uint8Array,
  outputName: string,
  rows: Float32Array,
  batch: number,
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  try {
    const result = await session.run({ input: new ort.Tensor('float32', rows, [batch, FEATURES]) });
    expect(result[outputName]!.dims).toEqual([batch, 1]);
    return result[outputName]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('buildTreeEnsemble', () => {
  it.each<['LOGISTIC' | 'NONE', 'LEQ' | 'LT']>([
    ['LOGISTIC', 'LEQ'],
    ['LOGISTIC', 'LT'],
    ['NONE', 'LEQ'],
  ])(
    'postTransform %s with %s branches: onnxruntime agrees with a tree walk on 400 rows',
    async (postTransform, comparison) => {
      const random = createSeededRandom(postTransform.length * 31 + comparison.length);
      const options: TreeEnsembleOptions = {
        trees: Array.from({ length: 30 }, () => randomTree(random, 5)),
        baseScore: -0.4,
        postTransform,
        comparison,
        featureCount: FEATURES,
      };
      const model = buildTreeEnsemble(options);
      expect(model.outputName).toBe(postTransform === 'LOGISTIC' ? 'probability' : 'score');
      const batch = 400;
      const rows = randomRows(random, options, batch);
      const actual = await runOrt(model.bytes, model.outputName, rows, batch);
      for (let row = 0; row < batch; row++) {
        const expected = predict(options, rows.subarray(row * FEATURES, (row + 1) * FEATURES));
        expect(Math.abs(actual[row]! - expected), `row ${row}`).toBeLessThan(1e-5);
      }
    },
  );

  it('sends a value equal to the threshold left for LEQ and right for LT', async () => {
    const trees: TreeSpec[] = [
      { nodes: [{ featureId: 0, threshold: 0.5, left: 1, right: 2 }, { leafValue: -1 }, { leafValue: 1 }] },
    ];
    const rows = Float32Array.of(0.5, 0, 0, 0, 0, 0, 0, 0);
    const leq = buildTreeEnsemble({
      trees,
      baseScore: 0,
      postTransform: 'NONE',
      comparison: 'LEQ',
      featureCount: FEATURES,
    });
    const lt = buildTreeEnsemble({
      trees,
      baseScore: 0,
      postTransform: 'NONE',
      comparison: 'LT',
      featureCount: FEATURES,
    });
    expect(Array.from(await runOrt(leq.bytes, 'score', rows, 1))).toEqual([-1]);
    expect(Array.from(await runOrt(lt.bytes, 'score', rows, 1))).toEqual([1]);
  });

  it('declares FP32 input [-1, features] and the ai.onnx.ml opset', () => {
    const model = buildTreeEnsemble({
      trees: [
        {
          nodes: [{ featureId: 3, threshold: 1, left: 1, right: 2 }, { leafValue: 0.1 }, { leafValue: 0.2 }],
        },
      ],
      baseScore: 0,
      postTransform: 'LOGISTIC',
    });
    expect(model.inputSize).toBe(4);
    const signature = readModelSignature(model.bytes);
    expect(signature.inputs.map((input) => [input.name, input.datatype, input.shape])).toEqual([
      ['input', 'FP32', [-1, 4]],
    ]);
    expect(signature.outputs.map((output) => [output.name, output.datatype, output.shape])).toEqual([
      ['probability', 'FP32', [-1, 1]],
    ]);
    expect(signature.opsets).toEqual([
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ]);
  });

  it.each<[string, TreeNodeSpec[], RegExp]>([
    [
      'a cycle',
      [
        { featureId: 0, threshold: 0, left: 1, right: 2 },
        { leafValue: 1 },
        { featureId: 0, threshold: 0, left: 0, right: 1 },
      ],
      /is reached twice/,
    ],
    [
      'an unreachable node',
      [
        { featureId: 0, threshold: 0, left: 1, right: 2 },
        { leafValue: 1 },
        { leafValue: 2 },
        { leafValue: 3 },
      ],
      /tree 0 node 3 cannot be reached/,
    ],
    [
      'a child out of range',
      [{ featureId: 0, threshold: 0, left: 1, right: 7 }, { leafValue: 1 }],
      /right must index one of the tree's 2 nodes, got 7/,
    ],
    [
      'a branch without feature',
      [{ threshold: 0, left: 1, right: 2 }, { leafValue: 1 }, { leafValue: 2 }],
      /needs a non-negative integer featureId/,
    ],
    ['an empty tree', [], /tree 0 has no nodes/],
  ])('rejects %s', (_label, nodes, message) => {
    const build = () => buildTreeEnsemble({ trees: [{ nodes }], baseScore: 0, postTransform: 'NONE' });
    expect(build).toThrow(InvalidModelSpecError);
    expect(build).toThrow(message);
  });
});
