import { meter } from '@slipway/telemetry';

/** Ingestion metrics of one monitor (`meter('slipway-monitor')`), exported on its Prometheus endpoint. */
export interface MonitorMetrics {
  /** Counts the outcome of one committed chunk of records. */
  ingested(outcome: { accepted: number; duplicates: number }): void;
}

/**
 * Creates the monitor's instruments. Cheap no-ops until the telemetry SDK is running. Plain
 * numbers reported by observable counters at scrape time, as the worker does: nothing is hashed
 * per record.
 */
export function createMonitorMetrics(): MonitorMetrics {
  const m = meter('slipway-monitor');
  let accepted = 0;
  let duplicates = 0;
  m.createObservableCounter('slipway.monitor.records_ingested', {
    description: 'Prediction records stored by IngestPredictions',
  }).addCallback((result) => result.observe(accepted));
  m.createObservableCounter('slipway.monitor.records_duplicate', {
    description: 'Prediction records IngestPredictions received again (same request id and variant)',
  }).addCallback((result) => result.observe(duplicates));
  return {
    ingested(outcome) {
      accepted += outcome.accepted;
      duplicates += outcome.duplicates;
    },
  };
}
