import { endianness } from 'node:os';
import type { inference } from '@slipway/contracts';
import {
  CONTENTS_FIELDS,
  datatypeInfo,
  protoFieldName,
  type ContentsField,
  type Datatype,
  type DatatypeInfo,
  type NumericArray,
  type TensorBuffer,
} from './datatypes.js';
import { InvalidArgumentError } from '@slipway/errors';
import { formatShape, type ModelSignature, type TensorSignature } from './model-signature.js';

/**
 * The tensor codec between Open Inference Protocol messages and onnxruntime tensors.
 *
 * Inputs arrive either all as typed `contents` or all as `raw_input_contents` (little-endian,
 * row-major; BYTES as a 4-byte little-endian length before each element). Every input is checked
 * against the model signature before onnxruntime sees it, because onnxruntime's own errors are
 * opaque to a caller. Values are never converted between datatypes: an FP64 model gets FP64.
 *
 * Outputs go back as typed contents or raw bytes. The protocol makes raw all-or-nothing per
 * response (`raw_output_contents` holds one entry per output, and then no output has contents),
 * and FP16 has no typed field, so a response that carries any FP16 output is raw as a whole.
 */

// The protocol's raw bytes are little-endian and typed arrays use host order; every platform
// onnxruntime-node ships for is little-endian, so views need no byte swapping.
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Tensor data in host memory, shaped, in protocol datatype terms. */
export interface HostTensor {
  readonly datatype: Datatype;
  readonly dims: readonly number[];
  readonly data: TensorBuffer;
}

/** A decoded input. `owned` is false when `data` is a view into the request's own bytes. */
export interface DecodedInput extends HostTensor {
  readonly owned: boolean;
}

/** A request validated against the model and decoded into host tensors. */
export interface DecodedRequest {
  /** Inputs in the model's declared order. */
  readonly inputs: ReadonlyMap<string, DecodedInput>;
  /** Output names to return, in the order requested (all served outputs when none are named). */
  readonly outputs: readonly string[];
  /** Whether the caller asked for raw output bytes (FP16 outputs force raw regardless). */
  readonly rawOutput: boolean;
}

/** The model facts the codec validates against. */
export interface CodecModel {
  readonly name: string;
  readonly signature: ModelSignature;
}

/** Slipway-side choices the request itself does not make. */
export interface DecodeOptions {
  /**
   * Answer with raw output bytes when the request has no `binary_data_output` parameter.
   * Default: mirror the request (raw when it used `raw_input_contents`).
   */
  readonly rawOutput?: boolean;
}

/** Request parameter (bool) asking for raw output bytes, as Triton's binary-data extension names it. */
export const BINARY_DATA_OUTPUT_PARAMETER = 'binary_data_output';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function invalid(message: string): never {
  throw new InvalidArgumentError(message);
}

function quoteList(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}

function contentsLength(contents: inference.InferTensorContents | undefined, field: ContentsField): number {
  return contents?.[field]?.length ?? 0;
}

function filledFields(contents: inference.InferTensorContents | undefined): ContentsField[] {
  return CONTENTS_FIELDS.filter((f) => contentsLength(contents, f) > 0);
}

/** Checks the request shape against the signature; returns dims as numbers and the element count. */
function checkShape(
  input: inference.ModelInferRequest_InferInputTensor,
  sig: TensorSignature,
): { dims: number[]; count: number } {
  const shown = formatShape(input.shape);
  const dims: number[] = [];
  let count = 1n;
  for (const d of input.shape) {
    if (d < 0n)
      invalid(
        `input "${input.name}": shape ${shown} has a negative dimension; give the concrete size of every dimension`,
      );
    count *= d;
    if (count > BigInt(Number.MAX_SAFE_INTEGER) || d > BigInt(Number.MAX_SAFE_INTEGER)) {
      invalid(`input "${input.name}": shape ${shown} has more elements than a tensor can hold`);
    }
    dims.push(Number(d));
  }
  if (sig.rankKnown) {
    if (dims.length !== sig.shape.length) {
      invalid(
        `input "${input.name}": shape ${shown} has rank ${dims.length} but the model expects rank ${sig.shape.length} (${formatShape(sig.shape)})`,
      );
    }
    sig.shape.forEach((want, i) => {
      if (want >= 0 && dims[i] !== want) {
        invalid(
          `input "${input.name}": shape ${shown} does not fit the model's ${formatShape(sig.shape)}: dimension ${i} is ${dims[i]}, must be ${want}`,
        );
      }
    });
  }
  return { dims, count: Number(count) };
}

function decodeString(inputName: string, index: number, bytes: Uint8Array): string {
  if (bytes.includes(0)) {
    invalid(
      `input "${inputName}": BYTES element ${index} contains a NUL byte, which onnxruntime strings cannot hold (it would cut the value short); remove it or encode the value (e.g. base64)`,
    );
  }
  try {
    return utf8.decode(bytes);
  } catch {
    return invalid(
      `input "${inputName}": BYTES element ${index} is not valid UTF-8; onnxruntime string tensors hold UTF-8 text only`,
    );
  }
}

function decodeRawBytes(
  name: string,
  rawIndex: number,
  raw: Uint8Array,
  count: number,
  shown: string,
): string[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: string[] = [];
  let offset = 0;
  while (offset < raw.byteLength) {
    if (offset + 4 > raw.byteLength) {
      invalid(
        `input "${name}": raw_input_contents[${rawIndex}] ends inside the 4-byte length of element ${out.length}; BYTES raw data is a 4-byte little-endian length followed by that many bytes, per element`,
      );
    }
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > raw.byteLength) {
      invalid(
        `input "${name}": raw_input_contents[${rawIndex}] element ${out.length} declares ${length} bytes but only ${raw.byteLength - offset} remain`,
      );
    }
    if (out.length === count) {
      invalid(
        `input "${name}": shape ${shown} has ${count} elements but raw_input_contents[${rawIndex}] holds more`,
      );
    }
    out.push(decodeString(name, out.length, raw.subarray(offset, offset + length)));
    offset += length;
  }
  if (out.length !== count) {
    invalid(
      `input "${name}": shape ${shown} has ${count} elements but raw_input_contents[${rawIndex}] holds ${out.length}`,
    );
  }
  return out;
}

function decodeRaw(
  name: string,
  info: DatatypeInfo,
  rawIndex: number,
  raw: Uint8Array,
  count: number,
  shown: string,
): { data: TensorBuffer; owned: boolean } {
  if (!info.arrayType) return { data: decodeRawBytes(name, rawIndex, raw, count, shown), owned: true };
  const need = count * info.byteSize;
  if (raw.byteLength !== need) {
    invalid(
      `input "${name}": shape ${shown} has ${count} elements but raw_input_contents[${rawIndex}] holds ${raw.byteLength} bytes (${info.datatype} needs ${need})`,
    );
  }
  if (!LITTLE_ENDIAN_HOST)
    invalid('raw tensor bytes are little-endian and this runtime supports little-endian hosts only');
  if (info.datatype === 'BOOL') {
    // onnxruntime reads any byte other than 0/1 as garbage, while the protocol means "non-zero is true".
    if (raw.every((b) => b <= 1)) return { data: raw, owned: false };
    return { data: Uint8Array.from(raw, (b) => (b === 0 ? 0 : 1)), owned: true };
  }
  if (raw.byteOffset % info.byteSize === 0) {
    return { data: new info.arrayType(raw.buffer, raw.byteOffset, count), owned: false };
  }
  // Unaligned (protobuf decoders slice small fields out of pooled buffers): one copy.
  const copy = new info.arrayType(count);
  new Uint8Array(copy.buffer).set(raw);
  return { data: copy, owned: true };
}

function decodeTyped(
  name: string,
  info: DatatypeInfo,
  contents: inference.InferTensorContents | undefined,
  count: number,
  shown: string,
): TensorBuffer {
  const filled = filledFields(contents);
  if (!info.field) {
    if (filled.length === 0 && count === 0) return new Uint16Array(0);
    invalid(
      `input "${name}": ${info.datatype} travels only as raw bytes: put the little-endian values in raw_input_contents (one entry per input) instead of contents`,
    );
  }
  const field = info.field;
  const wrong = filled.filter((f) => f !== field);
  if (wrong.length > 0) {
    invalid(
      `input "${name}": datatype ${info.datatype} takes its values in contents.${protoFieldName(field)}, but the request filled ${wrong
        .map((f) => `contents.${protoFieldName(f)}`)
        .join(', ')}`,
    );
  }
  const have = contentsLength(contents, field);
  if (have !== count) {
    invalid(
      `input "${name}": shape ${shown} has ${count} elements but contents.${protoFieldName(field)} holds ${have}`,
    );
  }
  const c = contents as inference.InferTensorContents;
  switch (info.datatype) {
    case 'BOOL':
      return Uint8Array.from(c.boolContents, (b) => (b ? 1 : 0));
    case 'INT64':
    case 'UINT64': {
      const values = info.datatype === 'INT64' ? c.int64Contents : c.uint64Contents;
      const bits = 64;
      values.forEach((v, i) => {
        const ok = info.datatype === 'INT64' ? BigInt.asIntN(bits, v) === v : BigInt.asUintN(bits, v) === v;
        if (!ok) invalid(`input "${name}": element ${i} (${v}) is out of range for ${info.datatype}`);
      });
      return info.datatype === 'INT64' ? BigInt64Array.from(values) : BigUint64Array.from(values);
    }
    case 'FP32':
      return Float32Array.from(c.fp32Contents);
    case 'FP64':
      return Float64Array.from(c.fp64Contents);
    case 'BYTES':
      return c.bytesContents.map((b, i) => decodeString(name, i, b));
    default: {
      const values = c[field] as number[];
      const [min, max] = info.range as readonly [number, number];
      const out = new (info.arrayType as NonNullable<DatatypeInfo['arrayType']>)(count) as Exclude<
        NumericArray,
        BigInt64Array | BigUint64Array
      >;
      values.forEach((v, i) => {
        if (!Number.isInteger(v) || v < min || v > max) {
          invalid(
            `input "${name}": element ${i} (${v}) is out of range for ${info.datatype} (${min}..${max})`,
          );
        }
        out[i] = v;
      });
      return out;
    }
  }
}

function requestedOutputs(request: inference.ModelInferRequest, model: CodecModel): string[] {
  const { signature } = model;
  if (request.outputs.length === 0) return signature.outputs.map((o) => o.name);
  const served = new Set(signature.outputs.map((o) => o.name));
  const names: string[] = [];
  for (const { name } of request.outputs) {
    if (names.includes(name)) invalid(`output "${name}" is requested twice; name each output once`);
    if (!served.has(name)) {
      const skipped = signature.skippedOutputs.find((s) => s.name === name);
      if (skipped) invalid(`requested output "${name}" cannot be served: ${skipped.reason}`);
      invalid(`model "${model.name}" has no output "${name}"; request one of ${quoteList([...served])}`);
    }
    names.push(name);
  }
  return names;
}

/**
 * Validates a ModelInferRequest against the model signature and decodes its inputs into host
 * tensors ready for onnxruntime. Raw inputs are viewed in place when their alignment allows.
 *
 * @throws InvalidArgumentError naming the offending input and what to change.
 */
export function decodeInferRequest(
  request: inference.ModelInferRequest,
  model: CodecModel,
  options: DecodeOptions = {},
): DecodedRequest {
  const { signature } = model;
  const raw = request.rawInputContents;
  const useRaw = raw.length > 0;
  if (useRaw) {
    const typed = request.inputs.find((i) => filledFields(i.contents).length > 0);
    if (typed) {
      invalid(
        `input "${typed.name}" has typed contents while the request also uses raw_input_contents; use one form for all inputs`,
      );
    }
    if (raw.length !== request.inputs.length) {
      invalid(
        `raw_input_contents has ${raw.length} entries but the request has ${request.inputs.length} inputs; give one entry per input, in the order of inputs`,
      );
    }
  }

  const byName = new Map(signature.inputs.map((s) => [s.name, s]));
  const decoded = new Map<string, DecodedInput>();
  request.inputs.forEach((input, index) => {
    const sig = byName.get(input.name);
    if (!sig) {
      invalid(
        `model "${model.name}" has no input "${input.name}"; its inputs are ${quoteList(signature.inputs.map((s) => s.name))}`,
      );
    }
    if (decoded.has(input.name)) invalid(`input "${input.name}" appears twice; give each input once`);
    const info = datatypeInfo(input.datatype);
    if (!info) {
      invalid(
        `input "${input.name}": datatype "${input.datatype}" is not an Open Inference Protocol datatype; the model expects ${sig.datatype}`,
      );
    }
    if (info.datatype !== sig.datatype) {
      invalid(
        `input "${input.name}": datatype ${info.datatype} does not match the model's ${sig.datatype}; send ${sig.datatype} (values are never converted)`,
      );
    }
    const { dims, count } = checkShape(input, sig);
    const shown = formatShape(input.shape);
    if (useRaw) {
      const { data, owned } = decodeRaw(input.name, info, index, raw[index] as Uint8Array, count, shown);
      decoded.set(input.name, { datatype: info.datatype, dims, data, owned });
    } else {
      decoded.set(input.name, {
        datatype: info.datatype,
        dims,
        data: decodeTyped(input.name, info, input.contents, count, shown),
        owned: true,
      });
    }
  });

  const missing = signature.inputs.filter((s) => !decoded.has(s.name)).map((s) => s.name);
  if (missing.length > 0) {
    invalid(
      `model "${model.name}" needs input${missing.length > 1 ? 's' : ''} ${quoteList(missing)}, missing from the request`,
    );
  }
  const ordered = new Map(signature.inputs.map((s) => [s.name, decoded.get(s.name) as DecodedInput]));

  const param = request.parameters[BINARY_DATA_OUTPUT_PARAMETER]?.parameterChoice;
  const rawOutput = param?.$case === 'boolParam' ? param.boolParam : (options.rawOutput ?? useRaw);
  return { inputs: ordered, outputs: requestedOutputs(request, model), rawOutput };
}

function numericBytes(data: NumericArray): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function encodeRawStrings(values: readonly string[]): Buffer {
  const parts = values.map((v) => Buffer.from(v, 'utf8'));
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.byteLength, offset);
    p.copy(out, offset + 4);
    offset += 4 + p.byteLength;
  }
  return out;
}

function emptyContents(): inference.InferTensorContents {
  return {
    boolContents: [],
    intContents: [],
    int64Contents: [],
    uintContents: [],
    uint64Contents: [],
    fp32Contents: [],
    fp64Contents: [],
    bytesContents: [],
  };
}

function typedContents(tensor: HostTensor, info: DatatypeInfo): inference.InferTensorContents {
  const contents = emptyContents();
  const { data } = tensor;
  if (Array.isArray(data)) {
    contents.bytesContents = data.map((s) => Buffer.from(s, 'utf8'));
  } else if (info.datatype === 'BOOL') {
    contents.boolContents = Array.from(data as Uint8Array, (b) => b !== 0);
  } else if (data instanceof BigInt64Array) {
    contents.int64Contents = Array.from(data);
  } else if (data instanceof BigUint64Array) {
    contents.uint64Contents = Array.from(data);
  } else {
    (contents[info.field as ContentsField] as number[]) = Array.from(data);
  }
  return contents;
}

/** What the response encoder needs besides the output tensors. */
export interface EncodeArgs {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  /** Output names in response order. */
  readonly outputs: readonly string[];
  readonly tensors: Readonly<Record<string, HostTensor>>;
  /** Raw bytes wanted (see DecodedRequest.rawOutput); FP16 outputs force raw for the whole response. */
  readonly rawOutput: boolean;
}

/** Encodes output tensors into a ModelInferResponse (raw bytes are views, not copies, where possible). */
export function encodeInferResponse(args: EncodeArgs): inference.ModelInferResponse {
  const tensors = args.outputs.map((name) => {
    const tensor = args.tensors[name];
    if (!tensor) throw new Error(`output "${name}" is missing from the inference result`);
    return [name, tensor] as const;
  });
  const raw = args.rawOutput || tensors.some(([, t]) => t.datatype === 'FP16');
  const outputs: inference.ModelInferResponse_InferOutputTensor[] = [];
  const rawOutputContents: Buffer[] = [];
  for (const [name, tensor] of tensors) {
    const info = datatypeInfo(tensor.datatype) as DatatypeInfo;
    const shape = tensor.dims.map((d) => BigInt(d));
    if (raw) {
      outputs.push({ name, datatype: tensor.datatype, shape, parameters: {}, contents: undefined });
      rawOutputContents.push(
        Array.isArray(tensor.data) ? encodeRawStrings(tensor.data) : numericBytes(tensor.data),
      );
    } else {
      outputs.push({
        name,
        datatype: tensor.datatype,
        shape,
        parameters: {},
        contents: typedContents(tensor, info),
      });
    }
  }
  return {
    modelName: args.modelName,
    modelVersion: args.modelVersion,
    id: args.id,
    parameters: {},
    outputs,
    rawOutputContents,
  };
}

/** Number of elements of a shape. */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}
