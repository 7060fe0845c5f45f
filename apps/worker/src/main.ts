// The inference worker: serves ONNX models over the Open Inference Protocol, loading what the
// registry assigns to it, or every model of a local repository (SLIPWAY_WORKER_MODELS / --models).
// With SLIPWAY_WORKER_MODE=stream it is a stream worker instead: events from a NATS JetStream
// consumer in, predictions out (see stream/stream-worker.ts).
import { createLogger, installSignalHandlers, type Logger } from '@slipway/service-kit';
import { shutdownTelemetry, startMetricsServer } from '@slipway/telemetry';
import { loadWorkerConfigOrExit } from './config.js';
import { loadStreamConfigOrExit } from './stream/config.js';
import { createStreamWorker } from './stream/stream-worker.js';
import { createWorker } from './worker.js';

/** Starts `worker` with its metrics endpoint and signal handling; exits 1 if it cannot start. */
async function run(
  worker: { start(): Promise<unknown>; shutdown(reason?: string): Promise<void> },
  metricsAddress: string | undefined,
  logger: Logger,
): Promise<void> {
  const metrics = metricsAddress ? await startMetricsServer(metricsAddress) : undefined;
  if (metrics) logger.info({ address: metrics.address }, 'metrics endpoint');
  installSignalHandlers(async (reason) => {
    await worker.shutdown(reason);
    await metrics?.close();
    await shutdownTelemetry();
  }, logger);
  try {
    await worker.start();
  } catch (err) {
    logger.error({ err }, 'worker failed to start');
    await worker.shutdown('start failed').catch(() => undefined);
    await metrics?.close();
    process.exit(1);
  }
}

if (process.env['SLIPWAY_WORKER_MODE']?.trim() === 'stream') {
  const config = loadStreamConfigOrExit();
  const logger = createLogger('stream-worker');
  await run(createStreamWorker(config, logger), config.SLIPWAY_WORKER_METRICS_ADDR, logger);
} else {
  const config = loadWorkerConfigOrExit(process.argv.slice(2));
  const logger = createLogger('worker');
  await run(createWorker(config, logger), config.SLIPWAY_WORKER_METRICS_ADDR, logger);
}
