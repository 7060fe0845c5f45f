import { attr, createGraphBuilder, ONNX_TENSOR_TYPE_CODES, onnxTypeFromCode } from '@slipway/onnx';

/**
 * Tiny ONNX models for tests, built with @slipway/onnx's graph builder, so the codec and batcher
 * can be exercised on every datatype and on dynamic shapes the conformance corpus does not have.
 * Test support only; not part of the package build.
 */

/** ONNX TensorProto.DataType codes. */
export const ELEM = ONNX_TENSOR_TYPE_CODES;

/** A graph input or output; `dims` undefined declares no shape (unknown rank), strings are symbolic dims. */
export interface TinyValue {
  readonly name: string;
  readonly elemType: number;
  readonly dims?: readonly (number | string)[] | undefined;
}

/** One node; attributes are int or int-list valued. */
export interface TinyNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Readonly<Record<string, number | readonly number[]>>;
}

function elemTypeName(code: number): NonNullable<ReturnType<typeof onnxTypeFromCode>> {
  const name = onnxTypeFromCode(code);
  if (!name) throw new Error(`unknown ONNX element type code ${code}`);
  return name;
}

/** Serializes a single-graph ONNX model (default opset 17, IR version 8). */
export function buildModel(graph: {
  readonly inputs: readonly TinyValue[];
  readonly outputs: readonly TinyValue[];
  readonly nodes: readonly TinyNode[];
  readonly opset?: number;
}): Uint8Array {
  const builder = createGraphBuilder({ graphName: 'tiny', producerName: 'slipway-tests' }).opset(
    '',
    graph.opset ?? 17,
  );
  for (const v of graph.inputs) builder.input(v.name, elemTypeName(v.elemType), v.dims);
  for (const v of graph.outputs) builder.output(v.name, elemTypeName(v.elemType), v.dims);
  for (const n of graph.nodes) {
    const attributes = Object.fromEntries(
      Object.entries(n.attributes ?? {}).map(([name, value]) => [
        name,
        typeof value === 'number' ? attr.int(value) : attr.ints(value as readonly number[]),
      ]),
    );
    builder.node(n.op, n.inputs, n.outputs, attributes);
  }
  return builder.encodeModel();
}

/** y = Identity(x) for one datatype and shape. */
export function identityModel(elemType: number, dims: readonly (number | string)[] | undefined): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', elemType, dims }],
    outputs: [{ name: 'y', elemType, dims }],
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
}
