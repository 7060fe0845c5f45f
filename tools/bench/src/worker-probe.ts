import { setTimeout as sleep } from 'node:timers/promises';
import { inference } from '@slipway/contracts';
import { createClient, type ServiceClient } from '@slipway/service-kit';
import type { BenchModel } from './models.js';

/** Reads the FP32 values of a response's first output, raw or typed. */
export function firstOutputValues(response: inference.ModelInferResponse): Float32Array | undefined {
  const raw = response.rawOutputContents[0];
  // Copied: a Buffer's `buffer` may be a shared pool, and its offset need not be 4-aligned.
  if (raw) return new Float32Array(Uint8Array.from(raw).buffer);
  const typed = response.outputs[0]?.contents?.fp32Contents;
  return typed && typed.length > 0 ? Float32Array.from(typed) : undefined;
}

/** True when `actual` matches `expected` within a relative tolerance (FP32 kernels may differ). */
export function closeEnough(actual: Float32Array, expected: Float32Array, tolerance = 1e-4): boolean {
  return (
    actual.length === expected.length &&
    actual.every(
      (value, i) => Math.abs(value - expected[i]!) <= tolerance * Math.max(1, Math.abs(expected[i]!)),
    )
  );
}

type InferenceClient = ServiceClient<typeof inference.GRPCInferenceServiceService>;

/** Polls ModelReady: a worker reports SERVING before its models finish loading. */
async function waitModelReady(client: InferenceClient, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { ready } = await client.modelReady({ name, version: '' });
    if (ready) return;
    await sleep(100);
  }
  throw new Error(`model "${name}" was not ready within ${timeoutMs / 1000} s`);
}

function show(values: Float32Array): string {
  const head = [...values.slice(0, 4)].map((v) => v.toPrecision(6)).join(', ');
  return `[${head}${values.length > 4 ? `, … (${values.length} values)` : ''}]`;
}

/**
 * Waits until the model is ready, then sends its first request to a server of the inference protocol and checks its answer
 * against onnxruntime's, so a fast but wrong server is never measured. Returns the size of the
 * encoded response, which the echo baseline then replies with.
 */
export async function probeInference(address: string, model: BenchModel): Promise<number> {
  const client = createClient(inference.GRPCInferenceServiceService, address, {
    defaultDeadlineMs: 30_000,
  });
  try {
    await waitModelReady(client, model.name, 120_000);
    const response = await client.modelInfer(inference.ModelInferRequest.decode(model.requests[0]!));
    const values = firstOutputValues(response);
    if (!values || !closeEnough(values, model.expected)) {
      throw new Error(
        `the worker answered ${values ? show(values) : 'no FP32 output'} for "${model.name}" row 0; onnxruntime says ${show(model.expected)}`,
      );
    }
    return inference.ModelInferResponse.encode(response).finish().length;
  } finally {
    client.close();
  }
}
