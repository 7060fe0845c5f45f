import * as hdr from 'hdr-histogram-js';

/** Latency percentiles of one cell, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** Latencies of one cell: recorded in microseconds, 3 significant digits, up to 10 minutes. */
export interface LatencyHistogram {
  record(micros: number): void;
  summary(): LatencySummary;
  /** HdrHistogram compressed base64, for results.json (decode with `hdr.decodeFromCompressedBase64`). */
  encode(): string;
}

const highestMicros = 600_000_000;

/** Creates an empty {@link LatencyHistogram}. */
export function createLatencyHistogram(): LatencyHistogram {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: highestMicros,
    numberOfSignificantValueDigits: 3,
  });
  return {
    // Clamped: a value outside the range would throw inside the measuring loop.
    record: (micros) => histogram.recordValue(Math.min(Math.max(Math.round(micros), 1), highestMicros)),
    summary: () => summarizeHistogram(histogram),
    encode: () => hdr.encodeIntoCompressedBase64(histogram),
  };
}

/** Percentiles of an HdrHistogram holding microseconds; zeros when it is empty. */
export function summarizeHistogram(histogram: hdr.Histogram): LatencySummary {
  const count = histogram.totalCount;
  if (count === 0) return { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
  const ms = (micros: number): number => micros / 1000;
  return {
    count,
    meanMs: ms(histogram.mean),
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p90Ms: ms(histogram.getValueAtPercentile(90)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    p999Ms: ms(histogram.getValueAtPercentile(99.9)),
    maxMs: ms(histogram.maxValue),
  };
}

/** Completed requests per second over a window; 0 for an empty window. */
export function throughputPerSecond(completed: number, windowMs: number): number {
  return windowMs > 0 ? (completed * 1000) / windowMs : 0;
}

/** `numerator / denominator`, or undefined when either is missing or the denominator is not positive. */
export function ratio(numerator: number | undefined, denominator: number | undefined): number | undefined {
  if (numerator === undefined || denominator === undefined || !(denominator > 0)) return undefined;
  return numerator / denominator;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The nearest-rank `p`-th percentile (0 < p ≤ 100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}
