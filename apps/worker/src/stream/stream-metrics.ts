import { meter } from '@slipway/telemetry';

/** What happened to an event in one delivery. */
export type EventOutcome = 'published' | 'duplicate' | 'dead_lettered' | 'retried';

/** Stream worker metrics (`meter('slipway-stream')`), on the worker's Prometheus endpoint. */
export interface StreamMetrics {
  /** Counts events by outcome. */
  events(outcome: EventOutcome, count?: number): void;
  /** Counts a delivery after the first. */
  redelivered(count: number): void;
  batch(size: number, processingMs: number): void;
  /** Time from the event's arrival in its stream to its prediction's publish acknowledgement. */
  eventLatency(ms: number): void;
  /** Counts events a shadow variant did not score (its model loading, or shadow work at its bound). */
  shadowSkipped(count: number): void;
  /** The consumer's pending events (not yet delivered) and delivered-but-unacknowledged ones. */
  setLag(pending: number, ackPending: number): void;
}

const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
const MILLISECOND_BUCKETS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000, 60000];

export function createStreamMetrics(labels: { deployment: string; consumer: string }): StreamMetrics {
  const m = meter('slipway-stream');
  const base = Object.freeze({ deployment: labels.deployment, consumer: labels.consumer });
  const outcomes = new Map<EventOutcome, { attributes: Readonly<Record<string, string>>; count: number }>();
  let redeliveries = 0;
  let shadowSkips = 0;
  let pending = 0;
  let ackPending = 0;
  m.createObservableCounter('slipway.stream.events', {
    description: 'Events by outcome: published, duplicate (already published), dead_lettered, retried',
  }).addCallback((result) => {
    for (const { attributes, count } of outcomes.values()) result.observe(count, attributes);
  });
  m.createObservableCounter('slipway.stream.redeliveries', {
    description: 'Deliveries of an event after its first',
  }).addCallback((result) => result.observe(redeliveries, base));
  m.createObservableCounter('slipway.stream.shadow_skipped', {
    description:
      'Events a shadow variant did not score: its model still loading, or shadow work at its bound',
  }).addCallback((result) => result.observe(shadowSkips, base));
  m.createObservableGauge('slipway.stream.consumer_lag', {
    description: 'Events in the stream not yet delivered to the consumer',
  }).addCallback((result) => result.observe(pending, base));
  m.createObservableGauge('slipway.stream.ack_pending', {
    description: 'Events delivered to the consumer and not yet acknowledged',
  }).addCallback((result) => result.observe(ackPending, base));
  const batchSize = m.createHistogram('slipway.stream.batch_size', {
    description: 'Events per micro-batch',
    advice: { explicitBucketBoundaries: BATCH_SIZE_BUCKETS },
  });
  const batchTime = m.createHistogram('slipway.stream.batch_time', {
    description: 'Time to process one micro-batch: features, model, publish, acknowledgements',
    unit: 'ms',
    advice: { explicitBucketBoundaries: MILLISECOND_BUCKETS },
  });
  const latency = m.createHistogram('slipway.stream.event_latency', {
    description: "Time from an event's arrival in its stream to its prediction's publish acknowledgement",
    unit: 'ms',
    advice: { explicitBucketBoundaries: MILLISECOND_BUCKETS },
  });
  return {
    events(outcome, count = 1) {
      let counter = outcomes.get(outcome);
      if (!counter) {
        counter = { attributes: Object.freeze({ ...base, outcome }), count: 0 };
        outcomes.set(outcome, counter);
      }
      counter.count += count;
    },
    redelivered(count) {
      redeliveries += count;
    },
    shadowSkipped(count) {
      shadowSkips += count;
    },
    batch(size, processingMs) {
      batchSize.record(size, base);
      batchTime.record(processingMs, base);
    },
    eventLatency(ms) {
      latency.record(ms, base);
    },
    setLag(p, a) {
      pending = p;
      ackPending = a;
    },
  };
}
