import type { BuiltModel } from './built-model.js';
import { InvalidModelSpecError } from './errors.js';
import { attr } from './model-spec.js';
import { createGraphBuilder, DEFAULT_ONNX_ML_OPSET, DEFAULT_ONNX_OPSET } from './graph-builder.js';

/**
 * A node of a decision tree: a leaf when `leafValue` is set, otherwise a branch sending a row to
 * `left` when `x[featureId]` compares true against `threshold` and to `right` otherwise.
 * `left` and `right` index the tree's `nodes`; node 0 is the root.
 */
export interface TreeNodeSpec {
  readonly featureId?: number;
  readonly threshold?: number;
  readonly left?: number;
  readonly right?: number;
  readonly leafValue?: number;
  /** Send NaN to `left`; by default NaN goes `right`, as every comparison with NaN is false. */
  readonly missingGoesLeft?: boolean;
}

/** One tree of an ensemble. */
export interface TreeSpec {
  readonly nodes: readonly TreeNodeSpec[];
}

/** Options of {@link buildTreeEnsemble}. */
export interface TreeEnsembleOptions {
  readonly trees: readonly TreeSpec[];
  /** Added to the sum of the leaves (in margin space for LOGISTIC). */
  readonly baseScore: number;
  /** `'LOGISTIC'`: binary classification, output `sigmoid(score)`; `'NONE'`: regression. */
  readonly postTransform: 'LOGISTIC' | 'NONE';
  /**
   * `'LEQ'` (default, scikit-learn and LightGBM): left when `x <= threshold`;
   * `'LT'` (XGBoost): left when `x < threshold`.
   */
  readonly comparison?: 'LEQ' | 'LT';
  /** Input width; defaults to the largest feature id used plus one. */
  readonly featureCount?: number;
  /** Defaults to `'input'`. */
  readonly inputName?: string;
  /** Defaults to `'probability'` for LOGISTIC and `'score'` for NONE. */
  readonly outputName?: string;
}

interface FlatEnsemble {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  values: number[];
  modes: string[];
  trueIds: number[];
  falseIds: number[];
  missingTracksTrue: number[];
  leafTreeIds: number[];
  leafNodeIds: number[];
  leafWeights: number[];
  maxFeature: number;
}

function isLeaf(node: TreeNodeSpec): boolean {
  return node.leafValue !== undefined;
}

/** Checks that each tree is a tree: every node reached exactly once from the root. */
function checkTree(tree: TreeSpec, treeIndex: number): void {
  const where = (index: number) => `tree ${treeIndex} node ${index}`;
  if (tree.nodes.length === 0) throw new InvalidModelSpecError(`tree ${treeIndex} has no nodes`);
  const seen = new Set<number>();
  const stack = [0];
  while (stack.length > 0) {
    const index = stack.pop()!;
    if (seen.has(index))
      throw new InvalidModelSpecError(`${where(index)} is reached twice: the nodes do not form a tree`);
    seen.add(index);
    const node = tree.nodes[index]!;
    if (isLeaf(node)) {
      if (!Number.isFinite(node.leafValue))
        throw new InvalidModelSpecError(`${where(index)}: leafValue must be finite`);
      continue;
    }
    const { featureId, threshold, left, right } = node;
    if (featureId === undefined || !Number.isSafeInteger(featureId) || featureId < 0) {
      throw new InvalidModelSpecError(
        `${where(index)}: a branch needs a non-negative integer featureId (or set leafValue for a leaf)`,
      );
    }
    if (threshold === undefined || Number.isNaN(threshold)) {
      throw new InvalidModelSpecError(`${where(index)}: a branch needs a numeric threshold`);
    }
    for (const [side, child] of [
      ['left', left],
      ['right', right],
    ] as const) {
      if (child === undefined || !Number.isSafeInteger(child) || child < 0 || child >= tree.nodes.length) {
        throw new InvalidModelSpecError(
          `${where(index)}: ${side} must index one of the tree's ${tree.nodes.length} nodes, got ${child}`,
        );
      }
      stack.push(child);
    }
  }
  if (seen.size !== tree.nodes.length) {
    const unreachable = tree.nodes.findIndex((_, index) => !seen.has(index));
    throw new InvalidModelSpecError(`${where(unreachable)} cannot be reached from the root (node 0)`);
  }
}

function flatten(trees: readonly TreeSpec[], mode: string): FlatEnsemble {
  const flat: FlatEnsemble = {
    treeIds: [],
    nodeIds: [],
    featureIds: [],
    values: [],
    modes: [],
    trueIds: [],
    falseIds: [],
    missingTracksTrue: [],
    leafTreeIds: [],
    leafNodeIds: [],
    leafWeights: [],
    maxFeature: -1,
  };
  trees.forEach((tree, treeId) => {
    checkTree(tree, treeId);
    tree.nodes.forEach((node, nodeId) => {
      flat.treeIds.push(treeId);
      flat.nodeIds.push(nodeId);
      if (isLeaf(node)) {
        flat.featureIds.push(0);
        flat.values.push(0);
        flat.modes.push('LEAF');
        flat.trueIds.push(0);
        flat.falseIds.push(0);
        flat.missingTracksTrue.push(0);
        flat.leafTreeIds.push(treeId);
        flat.leafNodeIds.push(nodeId);
        flat.leafWeights.push(node.leafValue!);
      } else {
        flat.featureIds.push(node.featureId!);
        flat.values.push(node.threshold!);
        flat.modes.push(mode);
        flat.trueIds.push(node.left!);
        flat.falseIds.push(node.right!);
        flat.missingTracksTrue.push(node.missingGoesLeft ? 1 : 0);
        flat.maxFeature = Math.max(flat.maxFeature, node.featureId!);
      }
    });
  });
  return flat;
}

/**
 * A gradient-boosted (or random-forest-style summed) tree ensemble as
 * `ai.onnx.ml.TreeEnsembleRegressor` (ai.onnx.ml opset 3): FP32 input `[batch, featureCount]`,
 * output `[batch, 1]` = `baseScore + Σ leaf values`, passed through Sigmoid for LOGISTIC.
 * Thresholds and leaf values are stored as FP32, so answers match a float32 tree walk.
 */
export function buildTreeEnsemble(options: TreeEnsembleOptions): BuiltModel {
  if (options.trees.length === 0) throw new InvalidModelSpecError('a tree ensemble needs at least one tree');
  if (!Number.isFinite(options.baseScore))
    throw new InvalidModelSpecError('baseScore must be a finite number');
  const flat = flatten(options.trees, options.comparison === 'LT' ? 'BRANCH_LT' : 'BRANCH_LEQ');
  const featureCount = options.featureCount ?? Math.max(flat.maxFeature + 1, 1);
  if (flat.maxFeature >= featureCount) {
    throw new InvalidModelSpecError(
      `featureCount is ${featureCount} but a branch reads feature ${flat.maxFeature}`,
    );
  }
  const logistic = options.postTransform === 'LOGISTIC';
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? (logistic ? 'probability' : 'score');
  const scoreName = logistic ? 'margin' : outputName;

  const g = createGraphBuilder({ graphName: 'tree_ensemble' })
    .opset('', DEFAULT_ONNX_OPSET)
    .opset('ai.onnx.ml', DEFAULT_ONNX_ML_OPSET)
    .docString(
      `${options.trees.length} trees, ${options.postTransform === 'LOGISTIC' ? 'binary classifier' : 'regressor'}`,
    )
    .input(inputName, 'FLOAT', ['batch', featureCount])
    .output(outputName, 'FLOAT', ['batch', 1])
    .node(
      'TreeEnsembleRegressor',
      [inputName],
      [scoreName],
      {
        n_targets: attr.int(1),
        aggregate_function: attr.string('SUM'),
        // A separate Sigmoid node keeps the regressor's output (the margin) inspectable.
        post_transform: attr.string('NONE'),
        base_values: attr.floats([options.baseScore]),
        nodes_treeids: attr.ints(flat.treeIds),
        nodes_nodeids: attr.ints(flat.nodeIds),
        nodes_featureids: attr.ints(flat.featureIds),
        nodes_values: attr.floats(flat.values),
        nodes_modes: attr.strings(flat.modes),
        nodes_truenodeids: attr.ints(flat.trueIds),
        nodes_falsenodeids: attr.ints(flat.falseIds),
        nodes_missing_value_tracks_true: attr.ints(flat.missingTracksTrue),
        target_treeids: attr.ints(flat.leafTreeIds),
        target_nodeids: attr.ints(flat.leafNodeIds),
        target_ids: attr.ints(flat.leafTreeIds.map(() => 0)),
        target_weights: attr.floats(flat.leafWeights),
      },
      { name: 'trees', domain: 'ai.onnx.ml' },
    );
  if (logistic) g.node('Sigmoid', [scoreName], [outputName], {}, { name: 'sigmoid' });
  return { bytes: g.encodeModel(), inputName, outputName, inputSize: featureCount };
}
