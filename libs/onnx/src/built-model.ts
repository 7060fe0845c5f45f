/** A ready-made model: its `.onnx` bytes and the names to feed and fetch. */
export interface BuiltModel {
  readonly bytes: Uint8Array;
  readonly inputName: string;
  readonly outputName: string;
  /** Width of the FP32 input `[batch, inputSize]`. */
  readonly inputSize: number;
}
