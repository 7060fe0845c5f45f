import { inference } from '@slipway/contracts';
import { buildMlp, MLP_PRESETS } from '@slipway/onnx';
import { createLogger } from '@slipway/service-kit';
import { describe, expect, it } from 'vitest';
import { loadVersion, probeRequest } from './executor-choice.js';
import type { ModelSignature } from '@slipway/model-runtime';

const logger = createLogger('worker', { level: 'silent' });
const tiny = buildMlp(MLP_PRESETS.tiny);

describe('executor choice', () => {
  it('probes at the largest batch along a dynamic first dimension', () => {
    const signature: ModelSignature = {
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [-1, 3], rankKnown: true, dimNames: ['batch', undefined] },
        { name: 's', datatype: 'BYTES', shape: [-1, -1], rankKnown: true, dimNames: ['batch', ''] },
      ],
      outputs: [],
      skippedOutputs: [],
    };
    const request = probeRequest('m', signature, 8) as inference.ModelInferRequest;
    expect(request.inputs.map((i) => [i.name, i.datatype, i.shape])).toEqual([
      ['x', 'FP32', [8n, 3n]],
      ['s', 'BYTES', [8n, 1n]],
    ]);
    expect(request.rawInputContents.map((r) => r.byteLength)).toEqual([8 * 3 * 4, 8 * 4]);
    expect(
      probeRequest('m', { ...signature, inputs: [{ ...signature.inputs[0]!, rankKnown: false }] }, 8),
    ).toBe(undefined);
  });

  it.each(['auto', 'in-process', 'worker-threads'] as const)(
    'loads a serving model with the %s executor',
    async (kind) => {
      const model = await loadVersion(
        { name: 'tiny', version: 1, bytes: tiny.bytes },
        {
          batching: { maxBatchSize: 64, maxQueueDelayMicros: 100 },
          executor: kind === 'worker-threads' ? { kind, threads: 1 } : { kind },
          sessionOptions: {},
        },
        logger,
      );
      try {
        if (kind !== 'auto') expect(model.executor).toBe(kind);
        const response = await model.infer(
          inference.ModelInferRequest.fromPartial({
            modelName: 'tiny',
            inputs: [
              {
                name: 'input',
                datatype: 'FP32',
                shape: [1n, 30n],
                contents: { fp32Contents: new Array(30).fill(0.1) },
              },
            ],
          }),
        );
        expect(response.outputs[0]?.shape).toEqual([1n, 1n]);
      } finally {
        await model.close();
      }
    },
  );
});
