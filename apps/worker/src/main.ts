// The inference worker: serves ONNX models over the Open Inference Protocol, loading what the
// registry assigns to it, or every model of a local repository (SLIPWAY_WORKER_MODELS / --models).
import { createLogger, installSignalHandlers } from '@slipway/service-kit';
import { shutdownTelemetry, startMetricsServer } from '@slipway/telemetry';
import { loadWorkerConfigOrExit } from './config.js';
import { createWorker } from './worker.js';

const config = loadWorkerConfigOrExit(process.argv.slice(2));
const logger = createLogger('worker');
const worker = createWorker(config, logger);
const metrics = config.SLIPWAY_WORKER_METRICS_ADDR
  ? await startMetricsServer(config.SLIPWAY_WORKER_METRICS_ADDR)
  : undefined;
if (metrics) logger.info({ address: metrics.address }, 'metrics endpoint');
installSignalHandlers(async (reason) => {
  await worker.shutdown(reason);
  await metrics?.close();
  await shutdownTelemetry();
}, logger);
await worker.start();
