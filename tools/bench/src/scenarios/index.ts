import type { Scenario } from '../scenario.js';
import type { TargetSpec } from '../targets.js';
import { grpcEchoScenario } from './grpc-echo.js';
import { onnxruntimeScenario } from './onnxruntime.js';
import { BATCHING_OFF, BATCHING_ON, workerScenario } from './worker.js';

export { grpcEchoScenario } from './grpc-echo.js';
export { onnxruntimeScenario } from './onnxruntime.js';
export { BATCHING_OFF, BATCHING_ON, requireWorkerEntry, workerScenario } from './worker.js';

/**
 * Issue 4's scenarios, in run order: per model, raw onnxruntime, the worker with batching off and
 * on, then the echo (which replies with the response size the worker was seen to return).
 */
export function defaultScenarios(): Scenario[] {
  return ['tiny', 'heavy'].flatMap((model) => {
    const group = `${model} model`;
    return [
      onnxruntimeScenario(model, group),
      workerScenario(model, group, BATCHING_OFF),
      workerScenario(model, group, BATCHING_ON),
      grpcEchoScenario(model, group),
    ];
  });
}

/** Issue 4's targets: throughput ratios between cells of the same run. */
export function defaultTargets(): TargetSpec[] {
  return [
    {
      id: 'tiny-worker-vs-grpc',
      description: 'tiny @64: worker (best of batching on/off) ≥ 80% of the bare grpc-js echo',
      numerator: [
        { scenario: `${BATCHING_OFF.id}/tiny`, concurrency: 64 },
        { scenario: `${BATCHING_ON.id}/tiny`, concurrency: 64 },
      ],
      denominator: { scenario: 'grpc-echo/tiny', concurrency: 64 },
      minRatio: 0.8,
    },
    {
      id: 'heavy-batching-gain',
      description: 'heavy @64: worker batching on ≥ 3× batching off',
      numerator: [{ scenario: `${BATCHING_ON.id}/heavy`, concurrency: 64 }],
      denominator: { scenario: `${BATCHING_OFF.id}/heavy`, concurrency: 64 },
      minRatio: 3,
    },
  ];
}
