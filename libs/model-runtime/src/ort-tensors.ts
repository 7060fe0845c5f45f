import * as ort from 'onnxruntime-node';
import { datatypeInfo, datatypeOfOrtType } from './datatypes.js';
import type { SessionConfig } from './executor.js';
import type { SessionMetadata } from './model-signature.js';
import type { HostTensor } from './tensor-codec.js';

/** Maps SessionConfig to onnxruntime session options. */
export function toOrtSessionOptions(config: SessionConfig): ort.InferenceSession.SessionOptions {
  const options: {
    -readonly [K in keyof ort.InferenceSession.SessionOptions]: ort.InferenceSession.SessionOptions[K];
  } = {};
  if (config.intraOpNumThreads !== undefined) options.intraOpNumThreads = config.intraOpNumThreads;
  if (config.interOpNumThreads !== undefined) options.interOpNumThreads = config.interOpNumThreads;
  if (config.graphOptimizationLevel !== undefined)
    options.graphOptimizationLevel = config.graphOptimizationLevel;
  if (config.executionMode !== undefined) options.executionMode = config.executionMode;
  return options;
}

/** Builds an onnxruntime tensor over host data (no copy). */
export function toOrtTensor(tensor: HostTensor): ort.Tensor {
  const info = datatypeInfo(tensor.datatype);
  if (!info) throw new Error(`datatype ${tensor.datatype} has no onnxruntime type`);
  return new ort.Tensor(info.ortType, tensor.data as never, tensor.dims);
}

/** Reads an onnxruntime output tensor back into host terms. */
export function fromOrtTensor(
  name: string,
  tensor: { readonly type: string; readonly dims: readonly number[]; readonly data: unknown },
): HostTensor {
  const info = datatypeOfOrtType(tensor.type);
  if (!info)
    throw new Error(`output "${name}" has onnxruntime type ${tensor.type}, which the protocol cannot carry`);
  return { datatype: info.datatype, dims: [...tensor.dims], data: tensor.data as HostTensor['data'] };
}

/** Session metadata as plain objects (they cross thread boundaries). */
export function plainMetadata(session: ort.InferenceSession): SessionMetadata {
  const plain = (m: ort.InferenceSession.ValueMetadata): ort.InferenceSession.ValueMetadata =>
    m.isTensor
      ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] }
      : { name: m.name, isTensor: false };
  return { inputs: session.inputMetadata.map(plain), outputs: session.outputMetadata.map(plain) };
}
