import { addressSchema as address, durationMsSchema, loadConfigOrExit, type Env } from '@slipway/service-kit';
import { z } from 'zod';
import { defaultWorkerId } from '../config.js';

const wholeNumber = (what: string, min: number, max: number) =>
  z.coerce.number().int(`expected a whole number of ${what}`).min(min).max(max);

/** A NATS subject to consume from: dot-separated tokens, wildcards allowed. */
const subject = z
  .string()
  .trim()
  .regex(/^[^\s.]+(\.[^\s.]+)*$/, { error: 'expected a NATS subject such as tx.events or tx.events.>' });

/** A concrete subject (no wildcards): where messages are published. */
const literalSubject = z
  .string()
  .trim()
  .regex(/^[^\s.*>]+(\.[^\s.*>]+)*$/, {
    error: 'expected a NATS subject without wildcards, such as tx.scored',
  });

const streamOrConsumerName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'use 1-64 letters, digits, "_" or "-"' });

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * The stream worker's environment (`SLIPWAY_WORKER_MODE=stream`, or `slipway worker --mode
 * stream`), parsed once at start. Blank values count as unset.
 */
export const streamConfigSchema = z.object({
  SLIPWAY_WORKER_MODE: z.literal('stream'),
  /** NATS server(s), comma-separated. Default nats://127.0.0.1:4222. */
  SLIPWAY_NATS_URL: z.string().trim().min(1).default('nats://127.0.0.1:4222'),
  /** The deployment whose release strategy chooses the model version of each event. */
  SLIPWAY_STREAM_DEPLOYMENT: z.string().trim().min(1),
  /** Subject the events arrive on (a JetStream stream must capture it, or is created). */
  SLIPWAY_STREAM_INPUT_SUBJECT: subject,
  /** Subject each prediction is published to. */
  SLIPWAY_STREAM_OUTPUT_SUBJECT: literalSubject,
  /** Where poison events go with the reason. Default `<output subject>.dead-letter`. */
  SLIPWAY_STREAM_DEAD_LETTER_SUBJECT: literalSubject.optional(),
  /** Durable consumer name; workers with the same name split the events. Default `slipway-<deployment>`. */
  SLIPWAY_STREAM_CONSUMER: streamOrConsumerName.optional(),
  /** Events per micro-batch at most (one feature lookup and one model run per variant). Default 256. */
  SLIPWAY_STREAM_MAX_BATCH: wholeNumber('events', 1, 10_000).default(256),
  /** How long the first event of a micro-batch waits for more while others are still pending. Default 5 ms. */
  SLIPWAY_STREAM_MAX_WAIT_MS: durationMsSchema.pipe(z.number().max(10_000)).default(5),
  /** Micro-batches processed at once. Default 4 (1 with ordering). */
  SLIPWAY_STREAM_BATCHES_IN_FLIGHT: wholeNumber('batches', 1, 64).optional(),
  /** Deliveries of a poison event before it goes to the dead-letter subject. Default 3. */
  SLIPWAY_STREAM_MAX_DELIVERIES: wholeNumber('deliveries', 1, 1000).default(3),
  /** The consumer's ack wait: how long an unacknowledged event waits before redelivery. Default 30 s. */
  SLIPWAY_STREAM_ACK_WAIT_MS: durationMsSchema.pipe(z.number().min(1000)).default(30_000),
  /** Unacknowledged events the consumer hands out at most (across its workers). Default 4096. */
  SLIPWAY_STREAM_MAX_ACK_PENDING: wholeNumber('events', 1, 1_000_000).default(4096),
  /**
   * Keeps each entity's events in order: one micro-batch at a time, and an entity's later events
   * in a batch wait for its earlier ones. Needs one worker per consumer. Default false.
   */
  SLIPWAY_STREAM_ORDERED: flag.default(false),
  /** Creates the streams for subjects no stream captures. Default true. */
  SLIPWAY_STREAM_CREATE_STREAMS: flag.default(true),
  /**
   * The duplicate window of an output stream this worker creates: redeliveries within it are
   * published once. Must exceed the ack wait. Default 10 min.
   */
  SLIPWAY_STREAM_DUPLICATE_WINDOW_MS: durationMsSchema.pipe(z.number().min(1000)).default(600_000),
  /**
   * Where model sessions run: `worker-threads` (one thread per version: a finished run comes back
   * as a message, while onnxruntime-node's in-process runs wait for a turn of the event loop, long
   * when a busy stream floods it) or `in-process`. Default worker-threads.
   */
  SLIPWAY_STREAM_EXECUTOR: z.enum(['in-process', 'worker-threads']).default('worker-threads'),
  /** Share of predictions recorded to the monitor, 0 to 1. Default 1. */
  SLIPWAY_STREAM_RECORD_SAMPLE: z.coerce.number().min(0).max(1).default(1),
  SLIPWAY_REGISTRY_ADDR: address.default('127.0.0.1:7001'),
  SLIPWAY_FEATURES_ADDR: address.default('127.0.0.1:7002'),
  /** Unset: no prediction records. */
  SLIPWAY_MONITOR_ADDR: address.optional(),
  /** Bearer token with the deployer role (monitor records). */
  SLIPWAY_WORKER_TOKEN: z.string().trim().min(1).optional(),
  SLIPWAY_WORKER_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/)
    .default(() => defaultWorkerId()),
  /** Artifact cache and record spool. Default `.slipway/stream-worker`. */
  SLIPWAY_WORKER_DATA_DIR: z.string().trim().min(1).default('.slipway/stream-worker'),
  /** Prometheus endpoint; unset = none. */
  SLIPWAY_WORKER_METRICS_ADDR: address.optional(),
});

/**
 * Micro-batches in flight by default. While one batch waits for the feature service or its
 * publish acknowledgements another computes; at low rates each lone event goes at once.
 */
export const DEFAULT_BATCHES_IN_FLIGHT = 4;

/** The parsed stream worker configuration. */
export type StreamConfig = z.output<typeof streamConfigSchema>;

/** The consumer name: configured, or `slipway-<deployment>` with unusable characters replaced. */
export function consumerNameOf(config: StreamConfig): string {
  return (
    config.SLIPWAY_STREAM_CONSUMER ??
    `slipway-${config.SLIPWAY_STREAM_DEPLOYMENT.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 64)
  );
}

/** The dead-letter subject: configured, or `<output subject>.dead-letter`. */
export function deadLetterSubjectOf(config: StreamConfig): string {
  return config.SLIPWAY_STREAM_DEAD_LETTER_SUBJECT ?? `${config.SLIPWAY_STREAM_OUTPUT_SUBJECT}.dead-letter`;
}

/** Micro-batches in flight: configured, else 1 with ordering and 4 without. */
export function batchesInFlightOf(config: StreamConfig): number {
  if (config.SLIPWAY_STREAM_ORDERED) return 1;
  return config.SLIPWAY_STREAM_BATCHES_IN_FLIGHT ?? DEFAULT_BATCHES_IN_FLIGHT;
}

export function loadStreamConfigOrExit(env: Env = process.env): StreamConfig {
  const config = loadConfigOrExit(streamConfigSchema, 'stream worker', env);
  if (config.SLIPWAY_STREAM_ORDERED && (config.SLIPWAY_STREAM_BATCHES_IN_FLIGHT ?? 1) > 1) {
    process.stderr.write(
      'stream worker: SLIPWAY_STREAM_ORDERED keeps one micro-batch in flight; unset SLIPWAY_STREAM_BATCHES_IN_FLIGHT\n',
    );
    process.exit(2);
  }
  return config;
}
