import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/**
 * Builds tiny ONNX models in memory for tests (protobuf wire format written directly), so the
 * codec and batcher can be exercised on every datatype and on dynamic shapes the conformance
 * corpus does not have. Test support only; not part of the package build.
 */

/** ONNX TensorProto.DataType codes. */
export const ELEM = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

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

function message(build: (w: BinaryWriter) => void): Uint8Array {
  const w = new BinaryWriter();
  build(w);
  return w.finish();
}

function valueInfo(v: TinyValue): Uint8Array {
  const tensorType = message((w) => {
    w.tag(1, WireType.Varint).int32(v.elemType);
    if (v.dims) {
      const dims = v.dims;
      w.tag(2, WireType.LengthDelimited).bytes(
        message((s) => {
          for (const d of dims) {
            s.tag(1, WireType.LengthDelimited).bytes(
              message((dim) =>
                typeof d === 'number'
                  ? dim.tag(1, WireType.Varint).int64(d)
                  : dim.tag(2, WireType.LengthDelimited).string(d),
              ),
            );
          }
        }),
      );
    }
  });
  return message((w) => {
    w.tag(1, WireType.LengthDelimited).string(v.name);
    w.tag(2, WireType.LengthDelimited).bytes(
      message((t) => t.tag(1, WireType.LengthDelimited).bytes(tensorType)),
    );
  });
}

function node(n: TinyNode, index: number): Uint8Array {
  return message((w) => {
    for (const i of n.inputs) w.tag(1, WireType.LengthDelimited).string(i);
    for (const o of n.outputs) w.tag(2, WireType.LengthDelimited).string(o);
    w.tag(3, WireType.LengthDelimited).string(`node${index}`);
    w.tag(4, WireType.LengthDelimited).string(n.op);
    for (const [name, value] of Object.entries(n.attributes ?? {})) {
      w.tag(5, WireType.LengthDelimited).bytes(
        message((a) => {
          a.tag(1, WireType.LengthDelimited).string(name);
          if (typeof value === 'number') {
            a.tag(20, WireType.Varint).int32(2); // INT
            a.tag(3, WireType.Varint).int64(value);
          } else {
            a.tag(20, WireType.Varint).int32(7); // INTS
            for (const v of value as readonly number[]) a.tag(8, WireType.Varint).int64(v);
          }
        }),
      );
    }
  });
}

/** Serializes a single-graph ONNX model (default opset 17, IR version 8). */
export function buildModel(graph: {
  readonly inputs: readonly TinyValue[];
  readonly outputs: readonly TinyValue[];
  readonly nodes: readonly TinyNode[];
  readonly opset?: number;
}): Uint8Array {
  const g = message((w) => {
    graph.nodes.forEach((n, i) => w.tag(1, WireType.LengthDelimited).bytes(node(n, i)));
    w.tag(2, WireType.LengthDelimited).string('tiny');
    for (const i of graph.inputs) w.tag(11, WireType.LengthDelimited).bytes(valueInfo(i));
    for (const o of graph.outputs) w.tag(12, WireType.LengthDelimited).bytes(valueInfo(o));
  });
  return message((w) => {
    w.tag(1, WireType.Varint).int64(8);
    w.tag(2, WireType.LengthDelimited).string('slipway-tests');
    w.tag(7, WireType.LengthDelimited).bytes(g);
    w.tag(8, WireType.LengthDelimited).bytes(
      message((o) => {
        o.tag(1, WireType.LengthDelimited).string('');
        o.tag(2, WireType.Varint).int64(graph.opset ?? 17);
      }),
    );
  });
}

/** y = Identity(x) for one datatype and shape. */
export function identityModel(elemType: number, dims: readonly (number | string)[] | undefined): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', elemType, dims }],
    outputs: [{ name: 'y', elemType, dims }],
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
}
