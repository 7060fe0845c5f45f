// Stored vector encodings: little-endian IEEE 754, whatever the host's byte order, so a data
// directory moves between machines as is.

/** float32 values as a little-endian BLOB (4 bytes each). */
export function encodeFloat32(values: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i]!, i * 4);
  return out;
}

/** The inverse of {@link encodeFloat32}. */
export function decodeFloat32(blob: Uint8Array): Float32Array {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const out = new Float32Array(Math.floor(blob.byteLength / 4));
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** float64 values as a little-endian BLOB (8 bytes each). */
export function encodeFloat64(values: Float64Array): Buffer {
  const out = Buffer.allocUnsafe(values.length * 8);
  for (let i = 0; i < values.length; i++) out.writeDoubleLE(values[i]!, i * 8);
  return out;
}

/** The inverse of {@link encodeFloat64}. */
export function decodeFloat64(blob: Uint8Array): Float64Array {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const out = new Float64Array(Math.floor(blob.byteLength / 8));
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

/** The first value of a float64 BLOB ({@link encodeFloat64}); undefined when it is empty. */
export function firstFloat64(blob: Uint8Array): number | undefined {
  if (blob.byteLength < 8) return undefined;
  return new DataView(blob.buffer, blob.byteOffset, 8).getFloat64(0, true);
}
