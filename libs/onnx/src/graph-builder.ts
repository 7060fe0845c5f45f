import type { OnnxTensorType } from './data-types.js';
import { InvalidModelSpecError } from './errors.js';
import { encodeModel } from './model-encoder.js';
import type { OpsetImport } from './model-signature.js';
import {
  createTensor,
  type AttributeSpec,
  type DimSpec,
  type ModelSpec,
  type NodeSpec,
  type TensorData,
  type TensorSpec,
  type TypeSpec,
  type ValueInfoSpec,
} from './model-spec.js';

/** ai.onnx opset imported when none is declared: supported by onnxruntime 1.12 and later. */
export const DEFAULT_ONNX_OPSET = 17;
/** ai.onnx.ml opset the ready-made models use (TreeEnsembleRegressor v3). */
export const DEFAULT_ONNX_ML_OPSET = 3;
/** IR version written by default: the one that goes with opset 17 and ai.onnx.ml 3. */
export const DEFAULT_IR_VERSION = 8;

/** Options of {@link createGraphBuilder}. */
export interface GraphBuilderOptions {
  /** GraphProto.name; defaults to `'main'`. */
  readonly graphName?: string;
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
}

/** Options of {@link GraphBuilder.node}. */
export interface NodeOptions {
  /** Defaults to `<opType>_<index>`. */
  readonly name?: string;
  /** `''` (default) for ai.onnx; `'ai.onnx.ml'` for the classic ML operators. */
  readonly domain?: string;
  readonly docString?: string;
}

/**
 * Assembles an ONNX model step by step. Methods return the builder so calls chain; `build()`
 * checks the graph (every node input defined before use, outputs produced, names unique, an opset
 * imported for every domain used) and `encodeModel()` serializes it.
 */
export interface GraphBuilder {
  /** Imports an operator set; `'ai.onnx'` and `''` both name the default domain. Re-declaring a domain replaces its version. */
  opset(domain: string, version: number): this;
  producer(name: string, version?: string): this;
  /** ModelProto.doc_string. */
  docString(text: string): this;
  /** GraphProto.doc_string. */
  graphDocString(text: string): this;
  /** Adds a ModelProto.metadata_props entry. */
  metadata(key: string, value: string): this;
  /**
   * Declares a graph input. With an element type, it is a tensor of `shape` (dims: sizes, symbolic
   * names such as `'batch'`, or null; omit `shape` for unknown rank); or pass a full {@link TypeSpec}.
   */
  input(name: string, type: OnnxTensorType | TypeSpec, shape?: readonly DimSpec[]): this;
  /** Declares a graph output, like {@link GraphBuilder.input}. */
  output(name: string, type: OnnxTensorType | TypeSpec, shape?: readonly DimSpec[]): this;
  /** Declares the type of an intermediate value (GraphProto.value_info); optional for onnxruntime. */
  valueInfo(name: string, type: OnnxTensorType | TypeSpec, shape?: readonly DimSpec[]): this;
  /** Adds a constant weight; see {@link createTensor} for how the element type is chosen. */
  initializer(name: string, data: TensorData, dims: readonly number[], dataType?: OnnxTensorType): this;
  /** Adds a prepared tensor as an initializer; it must carry a name. */
  initializerTensor(tensor: TensorSpec): this;
  /** Appends a node; nodes must be added in an order where every input already exists. */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes?: Readonly<Record<string, AttributeSpec>>,
    options?: NodeOptions,
  ): this;
  /** The model as plain data, after checking it. */
  build(): ModelSpec;
  /** The `.onnx` file bytes. */
  encodeModel(): Uint8Array;
}

function toTypeSpec(type: OnnxTensorType | TypeSpec, shape: readonly DimSpec[] | undefined): TypeSpec {
  if (typeof type !== 'string') return type;
  return shape === undefined
    ? { kind: 'tensor', elemType: type }
    : { kind: 'tensor', elemType: type, shape: [...shape] };
}

function normalizeDomain(domain: string): string {
  return domain === 'ai.onnx' ? '' : domain;
}

function checkShape(what: string, type: TypeSpec): void {
  if (type.kind !== 'tensor') {
    if (type.kind === 'map') checkShape(what, type.value);
    else checkShape(what, type.elem);
    return;
  }
  for (const dim of type.shape ?? []) {
    if (typeof dim === 'number' && (!Number.isSafeInteger(dim) || dim < 0)) {
      throw new InvalidModelSpecError(
        `${what}: dimension ${dim} must be a non-negative integer; use a name such as 'batch' or null for a dynamic one`,
      );
    }
  }
}

/** Starts an empty model. */
export function createGraphBuilder(options: GraphBuilderOptions = {}): GraphBuilder {
  const opsets = new Map<string, number>();
  const inputs: ValueInfoSpec[] = [];
  const outputs: ValueInfoSpec[] = [];
  const valueInfo: ValueInfoSpec[] = [];
  const initializers: TensorSpec[] = [];
  const nodes: NodeSpec[] = [];
  const metadata: Record<string, string> = {};
  let producerName = options.producerName ?? '@slipway/onnx';
  let producerVersion = options.producerVersion ?? '';
  let docString = '';
  let graphDocString = '';

  const build = (): ModelSpec => {
    const defined = new Map<string, string>();
    const define = (name: string, what: string) => {
      if (name === '') throw new InvalidModelSpecError(`${what} has an empty name`);
      const previous = defined.get(name);
      if (previous !== undefined)
        throw new InvalidModelSpecError(`${what} reuses the name "${name}" (already ${previous})`);
      defined.set(name, what);
    };
    for (const input of inputs) define(input.name, `graph input "${input.name}"`);
    for (const tensor of initializers) define(tensor.name ?? '', `initializer "${tensor.name}"`);
    const imported = new Map(opsets);
    if (imported.size === 0) imported.set('', DEFAULT_ONNX_OPSET);
    for (const node of nodes) {
      const label = `node "${node.name}" (${node.opType})`;
      for (const input of node.inputs) {
        if (input !== '' && !defined.has(input)) {
          throw new InvalidModelSpecError(
            `${label} reads "${input}", which is not a graph input, an initializer or the output of an earlier node`,
          );
        }
      }
      // An empty output name is ONNX's way to skip an optional output.
      for (const output of node.outputs) if (output !== '') define(output, `output of ${label}`);
      const domain = node.domain ?? '';
      if (!imported.has(domain)) {
        throw new InvalidModelSpecError(
          `${label} is in domain "${domain}" but no opset for it is imported: call opset('${domain}', <version>)`,
        );
      }
    }
    for (const output of outputs) {
      if (!defined.has(output.name)) {
        throw new InvalidModelSpecError(
          `graph output "${output.name}" is not produced by any node, input or initializer`,
        );
      }
    }
    if (outputs.length === 0)
      throw new InvalidModelSpecError('the graph declares no outputs: call output(name, type, shape)');
    return {
      irVersion: options.irVersion ?? DEFAULT_IR_VERSION,
      opsets: [...imported].map(([domain, version]) => ({ domain, version }) satisfies OpsetImport),
      producerName,
      producerVersion,
      docString,
      metadata: { ...metadata },
      graph: {
        name: options.graphName ?? 'main',
        nodes: [...nodes],
        initializers: [...initializers],
        inputs: [...inputs],
        outputs: [...outputs],
        valueInfo: [...valueInfo],
        docString: graphDocString,
      },
    };
  };

  const builder: GraphBuilder = {
    opset(domain, version) {
      if (!Number.isSafeInteger(version) || version < 1) {
        throw new InvalidModelSpecError(
          `opset version for "${domain}" must be a positive integer, got ${version}`,
        );
      }
      opsets.set(normalizeDomain(domain), version);
      return this;
    },
    producer(name, version = '') {
      producerName = name;
      producerVersion = version;
      return this;
    },
    docString(text) {
      docString = text;
      return this;
    },
    graphDocString(text) {
      graphDocString = text;
      return this;
    },
    metadata(key, value) {
      metadata[key] = value;
      return this;
    },
    input(name, type, shape) {
      const spec = toTypeSpec(type, shape);
      checkShape(`graph input "${name}"`, spec);
      inputs.push({ name, type: spec });
      return this;
    },
    output(name, type, shape) {
      const spec = toTypeSpec(type, shape);
      checkShape(`graph output "${name}"`, spec);
      if (outputs.some((output) => output.name === name)) {
        throw new InvalidModelSpecError(`graph output "${name}" is declared twice`);
      }
      outputs.push({ name, type: spec });
      return this;
    },
    valueInfo(name, type, shape) {
      const spec = toTypeSpec(type, shape);
      checkShape(`value "${name}"`, spec);
      valueInfo.push({ name, type: spec });
      return this;
    },
    initializer(name, data, dims, dataType) {
      initializers.push(createTensor(name, data, dims, dataType));
      return this;
    },
    initializerTensor(tensor) {
      if (!tensor.name) throw new InvalidModelSpecError('an initializer tensor needs a name');
      initializers.push(tensor);
      return this;
    },
    node(opType, nodeInputs, nodeOutputs, attributes = {}, nodeOptions = {}) {
      if (nodeOutputs.length === 0)
        throw new InvalidModelSpecError(`node ${opType} needs at least one output`);
      nodes.push({
        opType,
        inputs: [...nodeInputs],
        outputs: [...nodeOutputs],
        name: nodeOptions.name ?? `${opType}_${nodes.length}`,
        domain: normalizeDomain(nodeOptions.domain ?? ''),
        attributes: { ...attributes },
        ...(nodeOptions.docString === undefined ? {} : { docString: nodeOptions.docString }),
      });
      return this;
    },
    build,
    encodeModel: () => encodeModel(build()),
  };
  return builder;
}
