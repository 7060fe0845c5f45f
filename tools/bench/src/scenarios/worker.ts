import { existsSync } from 'node:fs';
import path from 'node:path';
import { startWorker, type WorkerSettings } from '../processes.js';
import { modelOf, type BenchContext, type Scenario } from '../scenario.js';
import { probeInference } from '../worker-probe.js';

const modelInfer = '/inference.GRPCInferenceService/ModelInfer';

/** Fails with the fix when the worker has not been built. */
export function requireWorkerEntry(context: BenchContext): void {
  if (!existsSync(context.workerEntry)) {
    throw new Error(`${context.workerEntry} is missing: build the worker first (npm run build)`);
  }
}

/** The executor the worker says it chose for a model (`{"msg":"model ready","executor":...}`). */
function loggedExecutor(lines: readonly string[], modelName: string): string | undefined {
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; model?: unknown; executor?: unknown };
      if (entry.msg === 'model ready' && entry.model === modelName && typeof entry.executor === 'string')
        return entry.executor;
    } catch {
      // Not a log record.
    }
  }
  return undefined;
}

/**
 * The worker app as a process (production flags), serving one model, loaded with ModelInfer
 * requests whose input travels in raw_input_contents. Its answer is checked before measuring.
 */
export function workerScenario(
  modelName: string,
  group: string,
  variant: { readonly id: string; readonly label: string; readonly settings: WorkerSettings },
): Scenario {
  return {
    id: `${variant.id}/${modelName}`,
    group,
    label: variant.label,
    async setup(context) {
      requireWorkerEntry(context);
      const model = modelOf(context, modelName);
      const dataDir = path.join(context.workDir, `worker-data-${variant.id}-${model.name}`);
      const server = await startWorker(context.workerEntry, model.repository, dataDir, {
        ...variant.settings,
        nodeArgs: context.config.workerNodeArgs,
        env: context.config.workerEnv,
      });
      try {
        context.rememberResponseBytes(model, await probeInference(server.address, model));
      } catch (error) {
        await server.stop();
        throw error;
      }
      const executor = loggedExecutor(server.logs(), model.name);
      return {
        notes: executor ? [`${variant.label}: the worker runs "${model.name}" ${executor}`] : [],
        driver: {
          kind: 'grpc-unary',
          address: server.address,
          method: modelInfer,
          requests: model.requests,
          channels: context.config.channels,
          deadlineMs: 30_000,
        },
        serverPid: server.pid,
        close: () => server.stop(),
      };
    },
  };
}

/** Batching off: `SLIPWAY_WORKER_MAX_BATCH_SIZE=1`. */
export const BATCHING_OFF = {
  id: 'worker-unbatched',
  label: 'worker, batching off',
  settings: { maxBatchSize: 1 },
} as const;

/** Batching on with the worker's defaults. */
export const BATCHING_ON = {
  id: 'worker-batching',
  label: 'worker, batching on (defaults)',
  settings: {},
} as const;
