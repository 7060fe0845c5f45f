import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import {
  createLatencyHistogram,
  median,
  percentile,
  ratio,
  summarizeHistogram,
  throughputPerSecond,
} from './stats.js';

describe('latency histogram', () => {
  it('reports percentiles in milliseconds from microseconds', () => {
    const histogram = createLatencyHistogram();
    for (let micros = 1; micros <= 1000; micros++) histogram.record(micros * 1000);
    const summary = histogram.summary();
    expect(summary.count).toBe(1000);
    // Three significant digits: within 0.1%.
    expect(summary.p50Ms).toBeCloseTo(500, -0.3);
    expect(summary.p99Ms).toBeCloseTo(990, -0.3);
    expect(summary.maxMs).toBeCloseTo(1000, -0.3);
    expect(summary.meanMs).toBeCloseTo(500.5, -0.3);
  });

  it('clamps values it cannot hold instead of throwing mid-run', () => {
    const histogram = createLatencyHistogram();
    histogram.record(0);
    histogram.record(-5);
    histogram.record(1e12);
    expect(histogram.summary().count).toBe(3);
  });

  it('round-trips through its compressed encoding', () => {
    const histogram = createLatencyHistogram();
    [120, 250, 250, 4000].forEach((v) => histogram.record(v));
    const decoded = hdr.decodeFromCompressedBase64(histogram.encode());
    const { count, p50Ms, p99Ms } = histogram.summary();
    expect(summarizeHistogram(decoded)).toMatchObject({ count, p50Ms, p99Ms });
  });

  it('summarizes an empty histogram as zeros', () => {
    expect(createLatencyHistogram().summary()).toMatchObject({ count: 0, p50Ms: 0, p99Ms: 0 });
  });
});

describe('throughput and ratios', () => {
  it('counts completions per second of window', () => {
    expect(throughputPerSecond(5000, 2000)).toBe(2500);
    expect(throughputPerSecond(10, 0)).toBe(0);
  });

  it('has no ratio without a positive baseline', () => {
    expect(ratio(8, 10)).toBe(0.8);
    expect(ratio(8, 0)).toBeUndefined();
    expect(ratio(undefined, 10)).toBeUndefined();
    expect(ratio(8, undefined)).toBeUndefined();
  });

  it('takes the median of odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 20 }, (_, i) => 20 - i);
    expect(percentile(values, 10)).toBe(2);
    expect(percentile(values, 50)).toBe(10);
    expect(percentile(values, 100)).toBe(20);
    expect(percentile([7], 1)).toBe(7);
  });
});
