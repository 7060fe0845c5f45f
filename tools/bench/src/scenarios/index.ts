import type { Scenario } from '../scenario.js';
import type { TargetSpec } from '../targets.js';
import { batchScenario } from './batch.js';
import { grpcEchoScenario } from './grpc-echo.js';
import { onnxruntimeScenario } from './onnxruntime.js';
import { routerScenarios, routerTargets } from './router.js';
import { streamScenario } from './stream.js';
import { BATCHING_OFF, BATCHING_ON, workerScenario } from './worker.js';

export { BATCH_ID, batchScenario } from './batch.js';
export { grpcEchoScenario } from './grpc-echo.js';
export { onnxruntimeScenario } from './onnxruntime.js';
export { ROUTER_IDS, routerScenarios, routerTargets } from './router.js';
export { STREAM_ID, streamScenario } from './stream.js';
export { BATCHING_OFF, BATCHING_ON, requireWorkerEntry, workerScenario } from './worker.js';

/**
 * The scenarios, in run order. Issue 4's: per model, raw onnxruntime, the worker with batching off
 * and on, then the echo (which replies with the response size the worker was seen to return).
 * Then the router group: the whole platform behind the router, then its baselines (routerScenarios).
 * Then batch inference, CSV to CSV, against raw onnxruntime, and streaming inference on NATS
 * JetStream against a bare consume → publish loop (their numbers are notes, not cells).
 */
export function defaultScenarios(): Scenario[] {
  const perModel = ['tiny', 'heavy'].flatMap((model) => {
    const group = `${model} model`;
    return [
      onnxruntimeScenario(model, group),
      workerScenario(model, group, BATCHING_OFF),
      workerScenario(model, group, BATCHING_ON),
      grpcEchoScenario(model, group),
    ];
  });
  return [...perModel, ...routerScenarios(), batchScenario(), streamScenario()];
}

/** Issue 4's targets (throughput ratios between cells of the same run), then the router's. */
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
    ...routerTargets(),
  ];
}
