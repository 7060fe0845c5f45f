import { meter } from '@slipway/telemetry';

/** Counters of the router (`meter('slipway-router')`), exported on its Prometheus endpoint. */
export interface RouterMetrics {
  /** Records one answered request. */
  request(deployment: string, variant: string, code: string, source: string, latencyMs: number): void;
  /** A call retried on another replica after UNAVAILABLE. */
  retried(): void;
  /** A sampled shadow call not made because the mirror queue was full. */
  shadowDropped(): void;
  /** Reports the record sink's counters at scrape time. */
  observeRecords(read: () => { sent: number; spooled: number; dropped: number }): void;
}

const MILLISECOND_BUCKETS = [0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 25, 50, 100, 250, 500, 1000, 2500];
const MAX_SERIES = 10_000;

/**
 * Creates the router's instruments. Request counts are plain numbers per series read when
 * Prometheus scrapes (cheaper on the hot path than synchronous counters); latency is a histogram.
 */
export function createRouterMetrics(): RouterMetrics {
  const m = meter('slipway-router');
  const counts = new Map<string, { attributes: Record<string, string>; count: number }>();
  let retries = 0;
  let shadowDrops = 0;
  m.createObservableCounter('slipway.router.requests', {
    description: 'Predictions by deployment, variant, status code and source (predict, infer)',
  }).addCallback((result) => {
    for (const { attributes, count } of counts.values()) result.observe(count, attributes);
  });
  m.createObservableCounter('slipway.router.retries', {
    description: 'Calls retried on another replica after UNAVAILABLE',
  }).addCallback((result) => result.observe(retries));
  m.createObservableCounter('slipway.router.shadow_dropped', {
    description: 'Sampled shadow calls not made because the mirror queue was full',
  }).addCallback((result) => result.observe(shadowDrops));
  const latency = m.createHistogram('slipway.router.latency', {
    description: 'Time from request to answer inside the router',
    unit: 'ms',
    advice: { explicitBucketBoundaries: MILLISECOND_BUCKETS },
  });
  return {
    request(deployment, variant, code, source, latencyMs) {
      const key = `${deployment}\u0000${variant}\u0000${code}\u0000${source}`;
      let c = counts.get(key);
      if (!c) {
        if (counts.size >= MAX_SERIES) return;
        c = { attributes: { deployment, variant, code, source }, count: 0 };
        counts.set(key, c);
      }
      c.count++;
      latency.record(latencyMs, c.attributes);
    },
    retried() {
      retries++;
    },
    shadowDropped() {
      shadowDrops++;
    },
    observeRecords(read) {
      m.createObservableCounter('slipway.router.records', {
        description: 'Prediction records by outcome: sent to the monitor, spooled to disk, dropped',
      }).addCallback((result) => {
        const s = read();
        result.observe(s.sent, { outcome: 'sent' });
        result.observe(s.spooled, { outcome: 'spooled' });
        result.observe(s.dropped, { outcome: 'dropped' });
      });
    },
  };
}
