/**
 * The bytes are not a usable ONNX model: not a protobuf `ModelProto`, truncated, or missing
 * something every model must have. The message says which. Callers serving uploads should treat
 * it as an invalid argument from the user, not an internal failure.
 */
export class InvalidOnnxModelError extends Error {
  override readonly name = 'InvalidOnnxModelError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A model description handed to the builder or encoder is inconsistent (undefined value names,
 * wrong tensor sizes, a missing opset import, ...). This is a bug in the calling code.
 */
export class InvalidModelSpecError extends Error {
  override readonly name = 'InvalidModelSpecError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
