import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inference } from '@slipway/contracts';
import { expect } from 'vitest';

/**
 * Test helpers: build Open Inference Protocol requests from plain values (typed or raw form) and
 * read responses back into plain values, independently of the codec under test.
 */

/** A tensor as plain values. BYTES values are strings; FP16 values are numbers. */
export interface PlainTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: readonly (number | bigint | boolean | string)[];
}

/** A reference tensor as written in pb_reference_tensors.json. */
export interface ReferenceTensor {
  readonly name: string;
  readonly onnx_dtype: string;
  readonly v2_datatype: string;
  readonly shape: number[];
  readonly data: (number | string | boolean)[];
}

/** One data set of pb_reference_tensors.json. */
export interface ReferenceCase {
  readonly model: string;
  readonly inputs: ReferenceTensor[];
  readonly outputs: ReferenceTensor[];
}

/** Reads pb_reference_tensors.json from the conformance corpus. */
export function readReferenceTensors(conformance: string): Record<string, ReferenceCase> {
  return JSON.parse(
    readFileSync(path.join(conformance, 'models', 'pb_reference_tensors.json'), 'utf8'),
  ) as Record<string, ReferenceCase>;
}

/** Reference tensor to plain values ("NaN" → NaN, ints of INT64/UINT64 → bigint). */
export function fromReference(t: ReferenceTensor): PlainTensor {
  const data = t.data.map((v) => {
    if (v === 'NaN' && t.v2_datatype !== 'BYTES') return Number.NaN;
    if (v === 'Infinity' && t.v2_datatype !== 'BYTES') return Number.POSITIVE_INFINITY;
    if (v === '-Infinity' && t.v2_datatype !== 'BYTES') return Number.NEGATIVE_INFINITY;
    if (t.v2_datatype === 'INT64' || t.v2_datatype === 'UINT64') return BigInt(v as number);
    return v;
  });
  return { name: t.name, datatype: t.v2_datatype, shape: t.shape, data };
}

/** IEEE 754 half-precision bits of a number (round to nearest even). */
export function toHalfBits(value: number): number {
  const x = new Uint32Array(new Float32Array([value]).buffer)[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  // Normal halves keep 10 mantissa bits; subnormal ones shift the implicit 1 in.
  const shift = e <= 0 ? 14 - e : 13;
  if (shift > 24) return sign;
  const full = e <= 0 ? mant | 0x800000 : mant;
  let half = (e <= 0 ? 0 : e << 10) | (full >>> shift);
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && half & 1)) half += 1;
  return sign | half;
}

/** Number value of half-precision bits. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Little-endian raw bytes of plain values, as raw_input_contents carries them. */
export function rawBytes(datatype: string, data: PlainTensor['data']): Buffer {
  const nums = data as number[];
  switch (datatype) {
    case 'BOOL':
      return Buffer.from(Uint8Array.from(data, (v) => (v ? 1 : 0)));
    case 'UINT8':
      return Buffer.from(Uint8Array.from(nums));
    case 'INT8':
      return Buffer.from(Int8Array.from(nums).buffer);
    case 'UINT16':
      return Buffer.from(Uint16Array.from(nums).buffer);
    case 'INT16':
      return Buffer.from(Int16Array.from(nums).buffer);
    case 'UINT32':
      return Buffer.from(Uint32Array.from(nums).buffer);
    case 'INT32':
      return Buffer.from(Int32Array.from(nums).buffer);
    case 'UINT64':
      return Buffer.from(BigUint64Array.from(data, (v) => BigInt(v as bigint)).buffer);
    case 'INT64':
      return Buffer.from(BigInt64Array.from(data, (v) => BigInt(v as bigint)).buffer);
    case 'FP16':
      return Buffer.from(Uint16Array.from(nums, toHalfBits).buffer);
    case 'FP32':
      return Buffer.from(Float32Array.from(nums).buffer);
    case 'FP64':
      return Buffer.from(Float64Array.from(nums).buffer);
    case 'BYTES':
      return Buffer.concat(
        (data as string[]).flatMap((s) => {
          const b = Buffer.from(s, 'utf8');
          const len = Buffer.alloc(4);
          len.writeUInt32LE(b.byteLength);
          return [len, b];
        }),
      );
    default:
      throw new Error(`no raw form for ${datatype}`);
  }
}

/** Typed contents of plain values in the field the protocol assigns to the datatype. */
export function typedContents(datatype: string, data: PlainTensor['data']): inference.InferTensorContents {
  const c = inference.InferTensorContents.fromPartial({});
  switch (datatype) {
    case 'BOOL':
      c.boolContents = data.map(Boolean);
      break;
    case 'INT8':
    case 'INT16':
    case 'INT32':
      c.intContents = data as number[];
      break;
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      c.uintContents = data as number[];
      break;
    case 'INT64':
      c.int64Contents = data.map((v) => BigInt(v as bigint));
      break;
    case 'UINT64':
      c.uint64Contents = data.map((v) => BigInt(v as bigint));
      break;
    case 'FP32':
      c.fp32Contents = data as number[];
      break;
    case 'FP64':
      c.fp64Contents = data as number[];
      break;
    case 'BYTES':
      c.bytesContents = (data as string[]).map((s) => Buffer.from(s, 'utf8'));
      break;
    default:
      throw new Error(`no typed form for ${datatype}`);
  }
  return c;
}

/** Copies bytes to an odd offset inside a larger buffer, to exercise the unaligned path. */
export function unaligned(bytes: Uint8Array): Buffer {
  const backing = Buffer.alloc(bytes.byteLength + 1);
  backing.set(bytes, 1);
  return backing.subarray(1);
}

/** Builds a request from plain tensors, all typed or all raw. */
export function makeRequest(
  inputs: readonly PlainTensor[],
  form: 'typed' | 'raw' | 'raw-unaligned',
  extra: Partial<
    Pick<inference.ModelInferRequest, 'id' | 'parameters' | 'outputs' | 'modelName' | 'modelVersion'>
  > = {},
): inference.ModelInferRequest {
  const request = inference.ModelInferRequest.fromPartial({
    modelName: extra.modelName ?? 'm',
    modelVersion: extra.modelVersion ?? '',
    id: extra.id ?? 'req',
  });
  request.parameters = extra.parameters ?? {};
  request.outputs = extra.outputs ?? [];
  for (const t of inputs) {
    request.inputs.push({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape.map((d) => BigInt(d)),
      parameters: {},
      contents: form === 'typed' ? typedContents(t.datatype, t.data) : undefined,
    });
    if (form !== 'typed') {
      const raw = rawBytes(t.datatype, t.data);
      request.rawInputContents.push(form === 'raw' ? raw : unaligned(raw));
    }
  }
  return request;
}

/** Reads one response output back into plain values, from typed contents or raw bytes. */
export function readOutput(response: inference.ModelInferResponse, name: string): PlainTensor {
  const index = response.outputs.findIndex((o) => o.name === name);
  const out = response.outputs[index];
  if (!out) throw new Error(`response has no output "${name}"`);
  const shape = out.shape.map(Number);
  const raw = response.rawOutputContents[index];
  if (response.rawOutputContents.length > 0) {
    if (!raw) throw new Error(`raw_output_contents has no entry for "${name}"`);
    const copy = new Uint8Array(raw);
    const buf = copy.buffer;
    let data: PlainTensor['data'];
    switch (out.datatype) {
      case 'BOOL':
        data = Array.from(copy, (b) => b !== 0);
        break;
      case 'UINT8':
        data = Array.from(copy);
        break;
      case 'INT8':
        data = Array.from(new Int8Array(buf));
        break;
      case 'UINT16':
        data = Array.from(new Uint16Array(buf));
        break;
      case 'INT16':
        data = Array.from(new Int16Array(buf));
        break;
      case 'UINT32':
        data = Array.from(new Uint32Array(buf));
        break;
      case 'INT32':
        data = Array.from(new Int32Array(buf));
        break;
      case 'UINT64':
        data = Array.from(new BigUint64Array(buf));
        break;
      case 'INT64':
        data = Array.from(new BigInt64Array(buf));
        break;
      case 'FP16':
        data = Array.from(new Uint16Array(buf), fromHalfBits);
        break;
      case 'FP32':
        data = Array.from(new Float32Array(buf));
        break;
      case 'FP64':
        data = Array.from(new Float64Array(buf));
        break;
      case 'BYTES': {
        const strings: string[] = [];
        const view = Buffer.from(copy);
        for (let off = 0; off < view.byteLength;) {
          const len = view.readUInt32LE(off);
          strings.push(view.subarray(off + 4, off + 4 + len).toString('utf8'));
          off += 4 + len;
        }
        data = strings;
        break;
      }
      default:
        throw new Error(`unknown datatype ${out.datatype}`);
    }
    return { name, datatype: out.datatype, shape, data };
  }
  const c = out.contents;
  if (!c) throw new Error(`output "${name}" has neither contents nor raw bytes`);
  const data = [
    c.boolContents,
    c.intContents,
    c.int64Contents,
    c.uintContents,
    c.uint64Contents,
    c.fp32Contents,
    c.fp64Contents,
    c.bytesContents.map((b: Uint8Array) => Buffer.from(b).toString('utf8')),
  ].find((values) => values.length > 0) as PlainTensor['data'] | undefined;
  return { name, datatype: out.datatype, shape, data: data ?? [] };
}

/** Asserts plain tensors agree: floats within |a-e| <= atol + rtol*|e| (NaN equals NaN), everything else exactly. */
export function expectTensorClose(
  actual: PlainTensor,
  expected: PlainTensor,
  tolerance = { rtol: 1e-5, atol: 1e-6 },
): void {
  expect(actual.datatype, `datatype of "${expected.name}"`).toBe(expected.datatype);
  expect(actual.shape, `shape of "${expected.name}"`).toEqual(expected.shape);
  expect(actual.data.length, `element count of "${expected.name}"`).toBe(expected.data.length);
  const floating = ['FP16', 'FP32', 'FP64'].includes(expected.datatype);
  expected.data.forEach((e, i) => {
    const a = actual.data[i];
    if (!floating) {
      expect(a, `"${expected.name}"[${i}]`).toEqual(e);
      return;
    }
    const [x, y] = [a as number, e as number];
    if (Number.isNaN(y)) {
      expect(Number.isNaN(x), `"${expected.name}"[${i}] is NaN`).toBe(true);
      return;
    }
    if (x === y) return;
    const ok = Math.abs(x - y) <= tolerance.atol + tolerance.rtol * Math.abs(y);
    expect(
      ok,
      `"${expected.name}"[${i}] = ${x}, expected ${y} (rtol ${tolerance.rtol}, atol ${tolerance.atol})`,
    ).toBe(true);
  });
}
