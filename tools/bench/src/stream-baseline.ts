/**
 * The streaming benchmark's baseline, run as its own process: a bare JetStream consume → publish
 * loop with the stream worker's delivery guarantees and shape but no model, features or records.
 * A durable pull consumer, micro-batches of up to BASELINE_MAX_BATCH events (sent at once when
 * nothing else is pending), BASELINE_IN_FLIGHT batches at a time; each event's bytes published to
 * the output subject with a Nats-Msg-Id, and the input acknowledged after the publish ack.
 *
 * Env: BASELINE_NATS_URL, BASELINE_STREAM, BASELINE_CONSUMER, BASELINE_INPUT_SUBJECT,
 * BASELINE_OUTPUT_SUBJECT, BASELINE_MAX_BATCH (256), BASELINE_IN_FLIGHT (4): the stream worker's
 * defaults.
 * Prints `{"msg":"consuming"}` once it consumes; stops on SIGTERM.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

// As the stream worker connects: no stack trace captured per request.
const nc = await connect({ servers: env('BASELINE_NATS_URL'), noAsyncTraces: true });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const stream = env('BASELINE_STREAM');
const consumerName = env('BASELINE_CONSUMER');
const output = env('BASELINE_OUTPUT_SUBJECT');
const maxBatch = Number(env('BASELINE_MAX_BATCH', '256'));
const maxInFlight = Number(env('BASELINE_IN_FLIGHT', '4'));
await jsm.consumers.add(stream, {
  durable_name: consumerName,
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  ack_wait: 30e9,
  max_ack_pending: 4096,
  filter_subject: env('BASELINE_INPUT_SUBJECT'),
});
const consumer = await js.consumers.get(stream, consumerName);

const queue: JsMsg[] = [];
let inFlight = 0;
let due = false;
let timer: NodeJS.Timeout | undefined;

const processBatch = async (batch: JsMsg[]): Promise<void> => {
  await Promise.all(
    batch.map(async (m) => {
      try {
        await js.publish(output, m.data, { msgID: `${m.info.stream}:${m.info.streamSequence}` });
        m.ack();
      } catch {
        m.nak(500);
      }
    }),
  );
};

const dispatch = (): void => {
  while (queue.length > 0 && inFlight < maxInFlight && (due || queue.length >= maxBatch)) {
    const batch = queue.splice(0, maxBatch);
    if (queue.length === 0) due = false;
    inFlight++;
    void processBatch(batch).finally(() => {
      inFlight--;
      dispatch();
    });
  }
  if (queue.length > 0 && !due && !timer) {
    timer = setTimeout(() => {
      timer = undefined;
      due = true;
      dispatch();
    }, 5);
  }
};

const messages = await consumer.consume({
  max_messages: maxBatch * 4,
  callback: (m) => {
    queue.push(m);
    if (m.info.pending === 0) due = true;
    dispatch();
  },
});
process.stdout.write(`${JSON.stringify({ msg: 'consuming' })}\n`);
process.once('SIGTERM', () => {
  messages.stop();
  void nc.drain().then(() => process.exit(0));
});
