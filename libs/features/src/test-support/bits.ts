/** The float32 bit patterns of `values` as 8-digit hex strings, for exact comparisons. */
export function bits(values: ArrayLike<number>): string[] {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  return Array.from(new Uint32Array(f32.buffer, f32.byteOffset, f32.length), (x) =>
    x.toString(16).padStart(8, '0'),
  );
}
