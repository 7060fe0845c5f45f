import type { InferenceSession } from 'onnxruntime-node';
import { datatypeOfOrtType, type Datatype } from './datatypes.js';
import { FailedPreconditionError } from '@slipway/errors';

/** One servable tensor of a model, in Open Inference Protocol terms. */
export interface TensorSignature {
  readonly name: string;
  readonly datatype: Datatype;
  /** Dimensions; -1 marks a dynamic (symbolic or unnamed) dimension. Empty when rankKnown is false. */
  readonly shape: readonly number[];
  /** False when the model declares no shape at all: then any rank is accepted. */
  readonly rankKnown: boolean;
  /** Symbolic dimension names as the model declares them ('' for unnamed dynamic dims), undefined for fixed dims. */
  readonly dimNames: readonly (string | undefined)[];
}

/** A model output that is not served, with the reason metadata can show. */
export interface SkippedOutput {
  readonly name: string;
  /** ONNX type text, e.g. `seq(map(int64,tensor(float)))`. */
  readonly type: string;
  readonly reason: string;
}

/** What a loaded model takes and gives over the Open Inference Protocol. */
export interface ModelSignature {
  readonly inputs: readonly TensorSignature[];
  /** Tensor outputs that can be requested. */
  readonly outputs: readonly TensorSignature[];
  /** Outputs the model declares but the runtime does not serve (ZipMap's seq(map), unsupported datatypes). */
  readonly skippedOutputs: readonly SkippedOutput[];
}

/**
 * A graph input or output as the ONNX file declares it (structurally, `@slipway/onnx`'s
 * `readModelSignature` entries). onnxruntime-node says only `isTensor: false` for maps and
 * sequences, and gives `shape: []` both for scalars and for tensors of unknown rank; the file
 * tells which, and names the non-tensor type so a refusal can say what it is.
 */
export interface DeclaredValue {
  readonly name: string;
  /** `'tensor'`, or the ONNX type text of a non-tensor such as `'map(int64,tensor(float))'`. */
  readonly kind: string;
  readonly rankKnown: boolean;
}

/** Declared graph inputs and outputs of a model. */
export interface DeclaredValues {
  readonly inputs: readonly DeclaredValue[];
  readonly outputs: readonly DeclaredValue[];
}

/** Input/output metadata as onnxruntime reports it for a session. */
export interface SessionMetadata {
  readonly inputs: readonly InferenceSession.ValueMetadata[];
  readonly outputs: readonly InferenceSession.ValueMetadata[];
}

function tensorSignature(
  meta: InferenceSession.TensorValueMetadata,
  datatype: Datatype,
  rankKnown: boolean,
): TensorSignature {
  const shape = rankKnown ? meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) : [];
  const dimNames = rankKnown
    ? meta.shape.map((d) => (typeof d === 'string' ? d : d >= 0 ? undefined : ''))
    : [];
  return { name: meta.name, datatype, shape, rankKnown, dimNames };
}

/**
 * Builds the served signature of a model from onnxruntime's session metadata, completed by the
 * types declared in the ONNX file (for non-tensor type text and rank-less tensors).
 *
 * Throws FailedPreconditionError when the model cannot be served at all: an input that is not a
 * tensor (onnxruntime-node cannot feed maps or sequences), an input datatype the protocol cannot
 * carry, or no servable output left.
 */
export function buildModelSignature(
  modelName: string,
  metadata: SessionMetadata,
  declared?: DeclaredValues,
): ModelSignature {
  const declaredInputs = new Map(declared?.inputs.map((v) => [v.name, v]));
  const declaredOutputs = new Map(declared?.outputs.map((v) => [v.name, v]));
  const kindOf = (v: DeclaredValue | undefined): string | undefined =>
    v && v.kind !== 'tensor' ? v.kind : undefined;
  const inputs: TensorSignature[] = [];
  for (const meta of metadata.inputs) {
    const typeText = kindOf(declaredInputs.get(meta.name));
    if (!meta.isTensor) {
      throw new FailedPreconditionError(
        `model "${modelName}" input "${meta.name}" is ${typeText ?? 'not a tensor'}; only tensor inputs can be served`,
      );
    }
    const info = datatypeOfOrtType(meta.type);
    if (!info) {
      throw new FailedPreconditionError(
        `model "${modelName}" input "${meta.name}" is tensor(${meta.type}), a datatype the Open Inference Protocol cannot carry; only BOOL, INT8-64, UINT8-64, FP16, FP32, FP64 and BYTES (string) inputs can be served`,
      );
    }
    inputs.push(tensorSignature(meta, info.datatype, declaredInputs.get(meta.name)?.rankKnown ?? true));
  }

  const outputs: TensorSignature[] = [];
  const skippedOutputs: SkippedOutput[] = [];
  for (const meta of metadata.outputs) {
    const typeText = kindOf(declaredOutputs.get(meta.name));
    if (!meta.isTensor) {
      skippedOutputs.push({
        name: meta.name,
        type: typeText ?? 'non-tensor',
        reason: `output "${meta.name}" is ${typeText ?? 'not a tensor'}, which cannot travel as an Open Inference Protocol tensor; only the model's tensor outputs are served`,
      });
      continue;
    }
    const info = datatypeOfOrtType(meta.type);
    if (!info) {
      skippedOutputs.push({
        name: meta.name,
        type: `tensor(${meta.type})`,
        reason: `output "${meta.name}" has datatype ${meta.type}, which the Open Inference Protocol cannot carry`,
      });
      continue;
    }
    outputs.push(tensorSignature(meta, info.datatype, declaredOutputs.get(meta.name)?.rankKnown ?? true));
  }

  if (outputs.length === 0) {
    const why = skippedOutputs.map((s) => s.reason).join('; ');
    throw new FailedPreconditionError(
      `model "${modelName}" has no output that can be served: ${why || 'it declares no outputs'}`,
    );
  }
  return { inputs, outputs, skippedOutputs };
}

/** Renders a shape the way error messages and logs show it: `[-1,4]`. */
export function formatShape(shape: readonly (number | bigint)[]): string {
  return `[${shape.join(',')}]`;
}
