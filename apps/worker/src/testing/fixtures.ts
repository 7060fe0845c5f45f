import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inference } from '@slipway/contracts';
import { createClient, createLogger, parseConfig, type ServiceClient } from '@slipway/service-kit';
import { workerConfigSchema } from '../config.js';
import { createWorker, type Worker } from '../worker.js';

/** An inference client. */
export type InferenceClient = ServiceClient<typeof inference.GRPCInferenceServiceService>;

/** A worker running in this process on 127.0.0.1:0, with a client. */
export interface LocalWorker {
  readonly worker: Worker;
  readonly address: string;
  readonly client: InferenceClient;
  stop(): Promise<void>;
}

/** Lays out `<repo>/<name>/<version>/model.onnx`, as a symlink to `source` or with `bytes`. */
export async function addModel(
  repo: string,
  name: string,
  version: number | string,
  model: { source: string } | { bytes: Uint8Array },
  config?: Record<string, unknown>,
): Promise<void> {
  const dir = path.join(repo, name, String(version));
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'model.onnx');
  if ('source' in model) await symlink(model.source, file);
  else await writeFile(file, model.bytes);
  if (config) await writeFile(path.join(repo, name, 'config.json'), JSON.stringify(config));
}

/** Polls ServerReady until it answers true (loading finished); fails after `timeoutMs`. */
export async function waitServerReady(client: InferenceClient, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await client.serverReady({})).ready) {
    if (Date.now() > deadline) throw new Error(`the worker was not ready within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Starts a worker in this process in local mode on `repo`, waits until its models have loaded,
 * and returns it with a client. `env` adds or overrides SLIPWAY_WORKER_* variables.
 */
export async function startLocalWorker(repo: string, env: Record<string, string> = {}): Promise<LocalWorker> {
  const config = parseConfig(workerConfigSchema, {
    SLIPWAY_WORKER_ADDR: '127.0.0.1:0',
    SLIPWAY_WORKER_MODELS: repo,
    ...env,
  });
  const worker = createWorker(config, createLogger('worker', { level: 'warn' }));
  const { address } = await worker.start();
  const client = createClient(inference.GRPCInferenceServiceService, address, {
    maxMessageBytes: 256 * 1024 * 1024,
  });
  await waitServerReady(client);
  return {
    worker,
    address,
    client,
    async stop() {
      client.close();
      await worker.shutdown('test done');
    },
  };
}
