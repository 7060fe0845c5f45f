import { existsSync } from 'node:fs';
import path from 'node:path';
import { inference } from '@slipway/contracts';
import type { BenchConfig } from './config.js';
import type { BenchModel } from './models.js';
import { startWorker } from './processes.js';
import type { BenchContext } from './scenario.js';
import { probeInference } from './worker-probe.js';

/** The response the worker should send for one row, encoded here: the size when no worker runs. */
export function expectedResponseBytes(model: BenchModel): number {
  return inference.ModelInferResponse.encode(
    inference.ModelInferResponse.fromPartial({
      modelName: model.name,
      modelVersion: '1',
      outputs: [{ name: model.outputName, datatype: 'FP32', shape: [1n, BigInt(model.outputSize)] }],
      rawOutputContents: [new Uint8Array(4 * model.outputSize)],
    }),
  ).finish().length;
}

/** Options of {@link createBenchContext}. */
export interface BenchContextOptions {
  readonly config: BenchConfig;
  readonly models: readonly BenchModel[];
  readonly workDir: string;
  readonly workerEntry: string;
  readonly repoRoot: string;
  readonly log: (line: string) => void;
}

/** The context scenarios of one run share. */
export function createBenchContext(options: BenchContextOptions): BenchContext {
  const responseBytes = new Map<string, Promise<number>>();
  const context: BenchContext = {
    config: options.config,
    models: new Map(options.models.map((m) => [m.name, m])),
    workDir: options.workDir,
    workerEntry: options.workerEntry,
    repoRoot: options.repoRoot,
    log: options.log,
    rememberResponseBytes(model, bytes) {
      responseBytes.set(model.name, Promise.resolve(bytes));
    },
    workerResponseBytes(model) {
      let known = responseBytes.get(model.name);
      if (!known) {
        known = (async () => {
          if (!existsSync(options.workerEntry)) {
            const bytes = expectedResponseBytes(model);
            options.log(
              `worker not built: the echo for "${model.name}" replies ${bytes} bytes (encoded here)`,
            );
            return bytes;
          }
          const dataDir = path.join(options.workDir, `worker-data-probe-${model.name}`);
          const worker = await startWorker(options.workerEntry, model.repository, dataDir, {});
          try {
            return await probeInference(worker.address, model);
          } finally {
            await worker.stop();
          }
        })();
        responseBytes.set(model.name, known);
      }
      return known;
    },
  };
  return context;
}
