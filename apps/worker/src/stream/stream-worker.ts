import path from 'node:path';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { features, registry } from '@slipway/contracts';
import { FailedPreconditionError } from '@slipway/errors';
import { createRecordSink, type RecordSink } from '@slipway/monitor-client';
import { createRegistryWatcher, type RegistryWatcher } from '@slipway/registry-client';
import { createClient, type Logger } from '@slipway/service-kit';
import { batchesInFlightOf, consumerNameOf, deadLetterSubjectOf, type StreamConfig } from './config.js';
import { createMicroBatcher, type MicroBatcher } from './micro-batcher.js';
import { createProcessor, type Processor } from './processor.js';
import { createPublisher, type JetStreamPublisher } from './publisher.js';
import { createStreamMetrics } from './stream-metrics.js';
import { createVariantModels, type VariantModels } from './variant-models.js';

/** A running stream worker. */
export interface StreamWorker {
  /** Connects, ensures streams and the consumer, loads the deployment's models, starts consuming. */
  start(): Promise<void>;
  /** Stops consuming, finishes the micro-batches in flight, hands queued events back, closes. */
  shutdown(reason?: string): Promise<void>;
}

/** How long a prediction's publish waits for JetStream's acknowledgement. */
const PUBLISH_TIMEOUT_MS = 10_000;

/** How long shutdown waits for shadow scoring in flight. */
const SHADOW_DRAIN_MS = 5_000;

/** How often the consumer's lag is read for the metrics. */
const LAG_POLL_MS = 5_000;

/** Stream names this worker creates for a subject: `SLIPWAY_<SUBJECT>` with unusable characters replaced. */
export function streamNameFor(subject: string): string {
  return `SLIPWAY_${subject
    .replace(/\.>$/, '_ALL')
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .toUpperCase()}`.slice(0, 64);
}

/**
 * The stream capturing `subject`. When none does and `create` is set, creates one (file storage;
 * `duplicateWindowNs` for output streams, so a prediction published again after a redelivery is
 * dropped by JetStream's de-duplication).
 */
async function ensureStream(
  jsm: JetStreamManager,
  subject: string,
  create: boolean,
  duplicateWindowNs: number | undefined,
  logger: Logger,
): Promise<string> {
  try {
    return await jsm.streams.find(subject);
  } catch (err) {
    if (!create) {
      throw new FailedPreconditionError(
        `no JetStream stream captures subject "${subject}" (${(err as Error).message}); create one, or let the worker create it (SLIPWAY_STREAM_CREATE_STREAMS=true)`,
      );
    }
  }
  const name = streamNameFor(subject);
  await jsm.streams.add({
    name,
    subjects: [subject],
    ...(duplicateWindowNs ? { duplicate_window: duplicateWindowNs } : {}),
  });
  logger.info({ stream: name, subject }, 'created JetStream stream');
  return name;
}

export function createStreamWorker(config: StreamConfig, logger: Logger): StreamWorker {
  const consumerName = consumerNameOf(config);
  const deadLetterSubject = deadLetterSubjectOf(config);
  const deploymentName = config.SLIPWAY_STREAM_DEPLOYMENT;
  const metrics = createStreamMetrics({ deployment: deploymentName, consumer: consumerName });
  const modelClient = createClient(registry.ModelServiceService, config.SLIPWAY_REGISTRY_ADDR, {
    token: config.SLIPWAY_WORKER_TOKEN,
  });
  const featureClient = createClient(features.FeatureServiceService, config.SLIPWAY_FEATURES_ADDR, {
    token: config.SLIPWAY_WORKER_TOKEN,
  });
  const models: VariantModels = createVariantModels({
    models: modelClient,
    features: featureClient,
    cacheDir: path.join(config.SLIPWAY_WORKER_DATA_DIR, 'artifacts'),
    executor: config.SLIPWAY_STREAM_EXECUTOR,
    logger,
  });
  const records: RecordSink = createRecordSink({
    ...(config.SLIPWAY_MONITOR_ADDR ? { address: config.SLIPWAY_MONITOR_ADDR } : {}),
    ...(config.SLIPWAY_WORKER_TOKEN ? { token: config.SLIPWAY_WORKER_TOKEN } : {}),
    spoolDir: path.join(config.SLIPWAY_WORKER_DATA_DIR, 'record-spool'),
    logger,
  });
  let watcher: RegistryWatcher | undefined;
  let nc: NatsConnection | undefined;
  let messages: ConsumerMessages | undefined;
  let batcher: MicroBatcher<JsMsg> | undefined;
  let processor: Processor | undefined;
  let publisher: JetStreamPublisher | undefined;
  let lagTimer: NodeJS.Timeout | undefined;
  let stopping = false;

  const deployment = (): registry.Deployment | undefined => watcher?.state.deployments.get(deploymentName);

  return {
    async start() {
      watcher = createRegistryWatcher({
        address: config.SLIPWAY_REGISTRY_ADDR,
        ...(config.SLIPWAY_WORKER_TOKEN ? { token: config.SLIPWAY_WORKER_TOKEN } : {}),
        logger,
        onEvent(event, state) {
          if (event.event?.$case === 'deployment' || event.event?.$case === 'synced') {
            if (state.synced) models.sync(state.deployments.get(deploymentName));
          }
        },
      });
      nc = await connect({
        servers: config.SLIPWAY_NATS_URL.split(',').map((s) => s.trim()),
        name: `slipway-stream-${config.SLIPWAY_WORKER_ID}`,
        maxReconnectAttempts: -1,
        // Stack traces captured for every request (each publish waits for its ack) were a fifth of the
        // worker's CPU; errors still say what failed.
        noAsyncTraces: true,
      });
      logger.info({ nats: nc.getServer() }, 'connected to NATS');
      const jsm = await jetstreamManager(nc);
      const create = config.SLIPWAY_STREAM_CREATE_STREAMS;
      const inputStream = await ensureStream(
        jsm,
        config.SLIPWAY_STREAM_INPUT_SUBJECT,
        create,
        undefined,
        logger,
      );
      const duplicateWindow = nanos(config.SLIPWAY_STREAM_DUPLICATE_WINDOW_MS);
      const outputStream = await ensureStream(
        jsm,
        config.SLIPWAY_STREAM_OUTPUT_SUBJECT,
        create,
        duplicateWindow,
        logger,
      );
      await ensureStream(jsm, deadLetterSubject, create, duplicateWindow, logger);
      const outputInfo = await jsm.streams.info(outputStream);
      if (outputInfo.config.duplicate_window < nanos(2 * config.SLIPWAY_STREAM_ACK_WAIT_MS)) {
        logger.warn(
          {
            stream: outputStream,
            duplicate_window_ms: outputInfo.config.duplicate_window / 1e6,
            ack_wait_ms: config.SLIPWAY_STREAM_ACK_WAIT_MS,
          },
          'the output stream de-duplicates over less than twice the ack wait: a prediction redelivered later may be published twice',
        );
      }
      const consumerConfig = {
        durable_name: consumerName,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(config.SLIPWAY_STREAM_ACK_WAIT_MS),
        max_ack_pending: config.SLIPWAY_STREAM_MAX_ACK_PENDING,
        max_deliver: -1,
        filter_subject: config.SLIPWAY_STREAM_INPUT_SUBJECT,
      };
      const existing = await jsm.consumers.info(inputStream, consumerName).catch(() => undefined);
      if (!existing) {
        await jsm.consumers.add(inputStream, consumerConfig);
        logger.info({ stream: inputStream, consumer: consumerName }, 'created durable consumer');
      } else if (
        existing.config.ack_wait !== consumerConfig.ack_wait ||
        existing.config.max_ack_pending !== consumerConfig.max_ack_pending
      ) {
        await jsm.consumers.update(inputStream, consumerName, {
          ack_wait: consumerConfig.ack_wait,
          max_ack_pending: consumerConfig.max_ack_pending,
        });
      }

      await watcher.ready();
      models.sync(deployment());
      const current = deployment();
      if (!current) {
        logger.warn(
          { deployment: deploymentName },
          'the deployment does not exist (yet): events wait until it does',
        );
      } else {
        // Start consuming once a live variant can score; events that arrive meanwhile wait in the stream.
        const stable =
          current.variants.find((v) => v.role === registry.VariantRole.VARIANT_ROLE_STABLE) ??
          current.variants[0];
        if (stable) await models.whenLoaded(stable.model, stable.version);
      }

      const js = jetstream(nc);
      publisher = createPublisher(nc, PUBLISH_TIMEOUT_MS);
      processor = createProcessor({
        deploymentName,
        consumer: consumerName,
        workerId: config.SLIPWAY_WORKER_ID,
        outputSubject: config.SLIPWAY_STREAM_OUTPUT_SUBJECT,
        deadLetterSubject,
        maxDeliveries: config.SLIPWAY_STREAM_MAX_DELIVERIES,
        ordered: config.SLIPWAY_STREAM_ORDERED,
        recordSample: config.SLIPWAY_STREAM_RECORD_SAMPLE,
        publisher,
        deployment,
        models,
        features: featureClient,
        records,
        metrics,
        logger,
        stopping: () => stopping,
        // As many shadow micro-batches as primary ones: shadow work keeps up unless it is slower.
        shadowConcurrency: batchesInFlightOf(config),
      });
      const proc = processor;
      batcher = createMicroBatcher<JsMsg>({
        maxBatch: config.SLIPWAY_STREAM_MAX_BATCH,
        maxWaitMs: config.SLIPWAY_STREAM_MAX_WAIT_MS,
        maxInFlight: batchesInFlightOf(config),
        process: (batch) => proc.process(batch),
        isLast: (m) => m.info.pending === 0,
        onError: (err) => logger.error({ err }, 'micro-batch failed'),
      });
      const b = batcher;
      const consumer = await js.consumers.get(inputStream, consumerName);
      messages = await consumer.consume({
        max_messages: Math.min(config.SLIPWAY_STREAM_MAX_ACK_PENDING, config.SLIPWAY_STREAM_MAX_BATCH * 4),
        callback: (m) => {
          if (stopping) m.nak();
          else b.push(m);
        },
      });
      lagTimer = setInterval(() => {
        consumer.info(false).then(
          (info) => metrics.setLag(info.num_pending, info.num_ack_pending),
          () => undefined,
        );
      }, LAG_POLL_MS);
      lagTimer.unref();
      logger.info(
        {
          deployment: deploymentName,
          input: config.SLIPWAY_STREAM_INPUT_SUBJECT,
          stream: inputStream,
          consumer: consumerName,
          output: config.SLIPWAY_STREAM_OUTPUT_SUBJECT,
          dead_letter: deadLetterSubject,
          max_batch: config.SLIPWAY_STREAM_MAX_BATCH,
          ordered: config.SLIPWAY_STREAM_ORDERED,
        },
        'stream worker consuming',
      );
    },

    async shutdown(reason = 'shutdown') {
      if (stopping) return;
      stopping = true;
      logger.info({ reason }, 'stream worker stopping');
      if (lagTimer) clearInterval(lagTimer);
      // No new deliveries; what is queued goes back to the stream at once for another worker.
      messages?.stop();
      if (batcher) {
        for (const m of batcher.takeQueued()) m.nak();
        await batcher.idle();
      }
      // Shadow scoring still running finishes before its model and the record sink close.
      const shadowDeadline = Date.now() + SHADOW_DRAIN_MS;
      while (processor && processor.shadowsInFlight() > 0 && Date.now() < shadowDeadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      publisher?.close();
      await records.close();
      watcher?.close();
      if (nc) await nc.drain().catch(() => undefined);
      await models.close();
      modelClient.close();
      featureClient.close();
      logger.info('stream worker stopped');
    },
  };
}
