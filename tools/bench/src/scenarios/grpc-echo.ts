import { ECHO_METHOD } from '../echo-method.js';
import { startEchoServer } from '../processes.js';
import { modelOf, type Scenario } from '../scenario.js';

/**
 * The bare grpc-js echo (echo-server.ts, its own process): it receives the model's ModelInferRequest
 * bytes and replies with as many bytes as the worker's ModelInferResponse. The transport floor.
 */
export function grpcEchoScenario(modelName: string, group: string): Scenario {
  return {
    id: `grpc-echo/${modelName}`,
    group,
    label: 'bare grpc-js echo',
    async setup(context) {
      const model = modelOf(context, modelName);
      const replyBytes = await context.workerResponseBytes(model);
      const server = await startEchoServer(replyBytes);
      return {
        driver: {
          kind: 'grpc-unary',
          address: server.address,
          method: ECHO_METHOD,
          requests: model.requests,
          channels: context.config.channels,
          deadlineMs: 30_000,
        },
        serverPid: server.pid,
        notes: [`echo replies ${replyBytes} bytes (the worker's ModelInferResponse for "${model.name}")`],
        close: () => server.stop(),
      };
    },
  };
}
