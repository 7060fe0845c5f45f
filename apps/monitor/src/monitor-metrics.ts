import { meter } from '@slipway/telemetry';
import type { StoredCount, Traffic } from './store/monitor-store.js';

/** Ingestion and traffic metrics of one monitor (`meter('slipway-monitor')`), on its Prometheus endpoint. */
export interface MonitorMetrics {
  /** Counts the outcome of one committed chunk of records (and the stored ones by series and status). */
  ingested(outcome: { accepted: number; duplicates: number; stored?: readonly StoredCount[] }): void;
  /** Counts the outcome of one committed chunk of outcomes. */
  outcomesIngested(outcome: { accepted: number; duplicates: number }): void;
}

/** Options of {@link createMonitorMetrics}. */
export interface MonitorMetricsOptions {
  /**
   * Traffic of the last few minutes per series, read when Prometheus scrapes, for the latency
   * quantile gauges. Unset: no latency gauges.
   */
  readonly recentTraffic?: () => Promise<Traffic[]>;
}

// Deployments and variants come from authenticated routers, but a misbehaving one must not grow
// the series without limit.
const MAX_SERIES = 10_000;
const QUANTILES = [0.5, 0.95, 0.99] as const;

/**
 * Creates the monitor's instruments. Cheap no-ops until the telemetry SDK is running. Plain
 * numbers reported by observable instruments at scrape time, as the worker does: nothing is
 * hashed per record.
 *
 * - `slipway.monitor.predictions` / `slipway.monitor.prediction_errors` {deployment, variant,
 *   status}: stored prediction records since start (errors: status ≠ OK), so the routers' request
 *   and error rates per variant can be graphed from the monitor;
 * - `slipway.monitor.recent_latency` {deployment, variant, quantile}: p50/p95/p99 over the last
 *   five minutes (current one included), merged from the per-minute rollups at scrape time.
 */
export function createMonitorMetrics(options: MonitorMetricsOptions = {}): MonitorMetrics {
  const m = meter('slipway-monitor');
  let accepted = 0;
  let duplicates = 0;
  let outcomesAccepted = 0;
  let outcomesDuplicate = 0;
  const series = new Map<string, { attributes: Readonly<Record<string, string>>; count: number }>();
  m.createObservableCounter('slipway.monitor.records_ingested', {
    description: 'Prediction records stored by IngestPredictions',
  }).addCallback((result) => result.observe(accepted));
  m.createObservableCounter('slipway.monitor.records_duplicate', {
    description: 'Prediction records IngestPredictions received again (same request id and variant)',
  }).addCallback((result) => result.observe(duplicates));
  m.createObservableCounter('slipway.monitor.outcomes_ingested', {
    description: 'Outcomes (labels, KPI events) stored by IngestOutcomes',
  }).addCallback((result) => result.observe(outcomesAccepted));
  m.createObservableCounter('slipway.monitor.outcomes_duplicate', {
    description: 'Outcomes IngestOutcomes received again (same outcome id)',
  }).addCallback((result) => result.observe(outcomesDuplicate));
  m.createObservableCounter('slipway.monitor.predictions', {
    description: 'Stored prediction records by deployment, variant and status',
  }).addCallback((result) => {
    for (const { attributes, count } of series.values()) result.observe(count, attributes);
  });
  m.createObservableCounter('slipway.monitor.prediction_errors', {
    description: 'Stored prediction records whose status is not OK, by deployment, variant and status',
  }).addCallback((result) => {
    for (const { attributes, count } of series.values()) {
      if (attributes['status'] !== 'OK') result.observe(count, attributes);
    }
  });
  const { recentTraffic } = options;
  if (recentTraffic) {
    m.createObservableGauge('slipway.monitor.recent_latency', {
      description: 'Prediction latency quantiles over the last 5 minutes, by deployment and variant',
      unit: 'ms',
    }).addCallback(async (result) => {
      let traffic: Traffic[];
      try {
        traffic = await recentTraffic();
      } catch {
        return; // The database is closing: report nothing rather than fail the scrape.
      }
      // Series of one variant (several versions, primary and shadow) merge into one sketch.
      const merged = new Map<string, Traffic>();
      for (const t of traffic) {
        const id = `${t.deployment}\u0000${t.variant}`;
        const seen = merged.get(id);
        if (seen) seen.latency.merge(t.latency);
        else merged.set(id, { ...t, latency: t.latency.copy() });
      }
      for (const t of merged.values()) {
        for (const q of QUANTILES) {
          const value = t.latency.quantile(q);
          if (value !== undefined) {
            result.observe(value, { deployment: t.deployment, variant: t.variant, quantile: String(q) });
          }
        }
      }
    });
  }
  return {
    ingested(outcome) {
      accepted += outcome.accepted;
      duplicates += outcome.duplicates;
      for (const s of outcome.stored ?? []) {
        const id = `${s.deployment}\u0000${s.variant}\u0000${s.status}`;
        let counter = series.get(id);
        if (!counter) {
          if (series.size >= MAX_SERIES) continue;
          counter = {
            attributes: Object.freeze({ deployment: s.deployment, variant: s.variant, status: s.status }),
            count: 0,
          };
          series.set(id, counter);
        }
        counter.count += s.count;
      }
    },
    outcomesIngested(outcome) {
      outcomesAccepted += outcome.accepted;
      outcomesDuplicate += outcome.duplicates;
    },
  };
}
