// JetStream helpers for the streaming end-to-end tests: publish events, read a stream back.
import path from 'node:path';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { repoRoot, startApp, type RunningApp } from '@slipway/testing';
import type { Platform } from './platform.js';

export interface Nats {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  close(): Promise<void>;
}

export async function natsClient(url: string): Promise<Nats> {
  const nc = await connect({ servers: url });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  return { nc, js, jsm, close: () => nc.drain() };
}

/** A demo event for user `u<i % users>`, with request-time values. */
export function demoEvent(i: number, users = 1000): Record<string, unknown> {
  return {
    id: `e${i}`,
    entity: { userId: `u${i % users}` },
    values: { amount: 10 + (i % 400), hourOfDay: i % 24, merchantRisk: (i % 10) / 10 },
  };
}

const encoder = new TextEncoder();

/**
 * Publishes events to a subject a stream captures, `window` publishes in flight, each with its
 * id as `Nats-Msg-Id` (a stream must capture the subject: see createStream, or let a worker create it).
 */
export async function publishEvents(
  nats: Nats,
  subject: string,
  events: Iterable<Record<string, unknown> | Uint8Array>,
  options: { window?: number; headers?: (i: number) => Record<string, string> } = {},
): Promise<number> {
  const window = options.window ?? 512;
  let pending: Array<Promise<unknown>> = [];
  let i = 0;
  for (const event of events) {
    const data = event instanceof Uint8Array ? event : encoder.encode(JSON.stringify(event));
    const h = headers();
    for (const [k, v] of Object.entries(options.headers?.(i) ?? {})) h.set(k, v);
    const id = event instanceof Uint8Array ? undefined : (event['id'] as string | undefined);
    pending.push(nats.js.publish(subject, data, { ...(id ? { msgID: id } : {}), headers: h }));
    i++;
    if (pending.length >= window) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  return i;
}

/** Creates a stream capturing `subjects` (as producers' platform teams would). */
export async function createStream(nats: Nats, name: string, subjects: string[]): Promise<void> {
  await nats.jsm.streams.add({ name, subjects, duplicate_window: 600e9 });
}

/** Messages stored in the stream capturing `subject` (0 when none exists yet). */
export async function storedCount(nats: Nats, subject: string): Promise<number> {
  try {
    const name = await nats.jsm.streams.find(subject);
    return (await nats.jsm.streams.info(name)).state.messages;
  } catch {
    return 0;
  }
}

/** Every message of the stream capturing `subject`, in stream order. */
export async function readAll(nats: Nats, subject: string): Promise<JsMsg[]> {
  const stream = await nats.jsm.streams.find(subject);
  const total = (await nats.jsm.streams.info(stream)).state.messages;
  const name = `reader_${Math.random().toString(36).slice(2)}`;
  await nats.jsm.consumers.add(stream, {
    durable_name: name,
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
    filter_subject: subject,
  });
  const out: JsMsg[] = [];
  try {
    const consumer = await nats.js.consumers.get(stream, name);
    while (out.length < total) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
      let got = 0;
      for await (const m of batch) {
        out.push(m);
        got++;
      }
      if (got === 0) break;
    }
  } finally {
    await nats.jsm.consumers.delete(stream, name);
  }
  return out;
}

/** Options of {@link startStreamWorker}. */
export interface StreamWorkerOptions {
  readonly name: string;
  readonly natsUrl: string;
  readonly input: string;
  readonly output: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly monitor?: boolean;
}

/** Starts `apps/worker` in stream mode for the platform's `fraud` deployment; resolves once it consumes. */
export async function startStreamWorker(
  platform: Platform,
  options: StreamWorkerOptions,
): Promise<RunningApp> {
  const app = await startApp({
    name: options.name,
    entry: path.join(repoRoot, 'apps/worker/dist/main.js'),
    waitUntil: 'spawned',
    env: {
      OTEL_SERVICE_NAME: 'slipway-stream-worker',
      SLIPWAY_WORKER_MODE: 'stream',
      SLIPWAY_NATS_URL: options.natsUrl,
      SLIPWAY_STREAM_DEPLOYMENT: 'fraud',
      SLIPWAY_STREAM_INPUT_SUBJECT: options.input,
      SLIPWAY_STREAM_OUTPUT_SUBJECT: options.output,
      SLIPWAY_REGISTRY_ADDR: platform.registry.address,
      SLIPWAY_FEATURES_ADDR: platform.features.address,
      ...(options.monitor && platform.monitor ? { SLIPWAY_MONITOR_ADDR: platform.monitor.address } : {}),
      SLIPWAY_WORKER_TOKEN: platform.token,
      SLIPWAY_WORKER_ID: options.name,
      SLIPWAY_WORKER_DATA_DIR: path.join(platform.dir, options.name),
      ...options.env,
    },
  });
  await app.waitForLog((line) => line.json?.['msg'] === 'stream worker consuming', 60_000);
  return app;
}

/** The parsed body of a prediction message. */
export interface Prediction {
  readonly eventId: string;
  readonly model: string;
  readonly version: number;
  readonly variant: string;
  readonly experiment?: string;
  readonly entity: Record<string, string>;
  readonly scores: number[];
  readonly traceId?: string;
  readonly worker: string;
}

export function predictionOf(m: JsMsg): Prediction {
  return m.json<Prediction>();
}
