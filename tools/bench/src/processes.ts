import { fileURLToPath } from 'node:url';
import { startApp, type RunningApp } from '@slipway/testing';

/** A server process started for a scenario. */
export interface ServerProcess {
  readonly address: string;
  readonly pid: number;
  /** Output lines so far (for error messages). */
  logs(): string[];
  /** SIGTERM, SIGKILL after 10 s. Idempotent. */
  stop(): Promise<void>;
}

function wrap(app: RunningApp, address: string): ServerProcess {
  let stopped: Promise<void> | undefined;
  return {
    address,
    pid: app.pid,
    logs: () => app.logs(),
    stop() {
      stopped ??= app.stop('SIGTERM', 10_000).then((result) => {
        if (result.timedOut) console.warn(`${app.name} ignored SIGTERM for 10 s and was killed`);
      });
      return stopped;
    },
  };
}

/** Worker settings a scenario may set; unset ones keep the worker's defaults. */
export interface WorkerSettings {
  readonly maxBatchSize?: number;
  readonly maxQueueDelayMicros?: number;
  readonly executor?: 'auto' | 'in-process' | 'worker-threads';
  /** Node options before the entry, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** Extra environment, applied last (diagnostics such as `OTEL_SDK_DISABLED=true`). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts the built worker as production does (`node --import @slipway/telemetry/register`) on a
 * free loopback port, serving `repository` with its caches in `dataDir`; resolves once it logs `listening` and is SERVING.
 */
export async function startWorker(
  entry: string,
  repository: string,
  dataDir: string,
  settings: WorkerSettings,
): Promise<ServerProcess> {
  const env: Record<string, string | undefined> = {
    SLIPWAY_WORKER_ADDR: '127.0.0.1:0',
    SLIPWAY_WORKER_MODELS: repository,
    // Scratch, not the repo's `.slipway/worker` default.
    SLIPWAY_WORKER_DATA_DIR: dataDir,
    SLIPWAY_WORKER_MAX_BATCH_SIZE: settings.maxBatchSize?.toString(),
    SLIPWAY_WORKER_MAX_QUEUE_DELAY_US: settings.maxQueueDelayMicros?.toString(),
    SLIPWAY_WORKER_EXECUTOR: settings.executor,
    ...settings.env,
  };
  const app = await startApp({
    name: 'worker',
    entry,
    env,
    nodeArgs: settings.nodeArgs ?? [],
    readyTimeoutMs: 60_000,
  });
  return wrap(app, app.address);
}

const echoEntry = fileURLToPath(new URL('./echo-server.js', import.meta.url));

/** Starts the bare grpc-js echo (echo-server.ts) replying with `replyBytes` bytes. */
export async function startEchoServer(replyBytes: number): Promise<ServerProcess> {
  const app = await startApp({
    name: 'grpc-echo',
    entry: echoEntry,
    env: { BENCH_ECHO_REPLY_BYTES: String(replyBytes), BENCH_ECHO_ADDR: '127.0.0.1:0' },
    telemetry: false,
    waitUntil: 'spawned',
  });
  try {
    const line = await app.waitForLog((l) => l.json?.['msg'] === 'listening', 10_000);
    return wrap(app, String(line.json!['address']));
  } catch (error) {
    await app.kill();
    throw new Error(`the echo server did not start:\n${app.logs().join('\n')}`, { cause: error });
  }
}
