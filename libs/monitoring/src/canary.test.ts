import { describe, expect, it } from 'vitest';
import { analyzeCanary, psiBetweenSamples, type CanaryWindowStats } from './index.js';
import { createRandom } from './test-support/random.js';

const stable: CanaryWindowStats = { requests: 5000, errors: 10, p99LatencyMs: 40 };
const healthy: CanaryWindowStats = { requests: 500, errors: 1, p99LatencyMs: 45 };

function scores(seed: number, n: number, transform = (x: number) => x): number[] {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => transform(1 / (1 + Math.exp(-random.normal(0, 1.5)))));
}

describe('analyzeCanary', () => {
  it('advances a healthy canary and says what it checked', () => {
    const result = analyzeCanary(
      { ...stable, predictions: scores(1, 2000), labelMetric: 0.81 },
      { ...healthy, predictions: scores(2, 500), labelMetric: 0.8 },
    );
    expect(result.decision).toBe('advance');
    expect(result.reasons.join('\n')).toMatch(/error rate 0\.20% vs stable 0\.20%/);
    expect(result.numbers).toMatchObject({
      stableRequests: 5000,
      canaryRequests: 500,
      canaryP99Ms: 45,
      p99Ratio: 45 / 40,
    });
    expect(result.numbers.predictionPsi).toBeLessThan(0.2);
  });

  it('holds while either side has fewer than minRequests', () => {
    const canary = analyzeCanary(stable, { requests: 20, errors: 0, p99LatencyMs: 900 });
    expect(canary).toMatchObject({
      decision: 'hold',
      reasons: ['canary has 20 requests, fewer than min_requests 50'],
    });
    const both = analyzeCanary(
      { ...stable, requests: 10, errors: 0 },
      { ...healthy, requests: 30 },
      { minRequests: 40 },
    );
    expect(both.decision).toBe('hold');
    expect(both.reasons).toHaveLength(2);
  });

  it('aborts on an absolute error rate above maxErrorRate', () => {
    const result = analyzeCanary(stable, { ...healthy, errors: 30 }, { maxErrorRate: 0.05 });
    expect(result).toMatchObject({
      decision: 'abort',
      reasons: ['canary error rate 6.00% exceeds max_error_rate 5.00%'],
    });
    expect(analyzeCanary(stable, { ...healthy, errors: 25 }, { maxErrorRate: 0.05 }).decision).toBe(
      'advance',
    );
  });

  it('aborts before minRequests when the errors alone spend the error budget', () => {
    // 3 errors in 10 requests: even 40 clean requests more would leave 6 % > 5 % of 50.
    const result = analyzeCanary(stable, { requests: 10, errors: 3 }, { maxErrorRate: 0.05 });
    expect(result.decision).toBe('abort');
    expect(result.reasons[0]).toMatch(/3 errors in 10 requests/);
    expect(analyzeCanary(stable, { requests: 10, errors: 2 }, { maxErrorRate: 0.05 }).decision).toBe('hold');
  });

  it('without maxErrorRate, aborts only when clearly worse than stable', () => {
    // 8 % vs 0.2 %: more than 5 points worse and far beyond chance.
    const worse = analyzeCanary(stable, { ...healthy, errors: 40 });
    expect(worse.decision).toBe('abort');
    expect(worse.reasons[0]).toMatch(/exceeds stable's 0\.20% by more than 5\.00%/);
    expect(worse.numbers.errorRatePValue).toBeLessThan(1e-10);
    // 4 % vs 0.2 %: significant, but within the 5-point allowance.
    expect(analyzeCanary(stable, { ...healthy, errors: 20 }).decision).toBe('advance');
    // 7 errors in 50 (14 %) against a stable at 8 %: 6 points worse, but 50 requests cannot tell
    // that from chance (one-sided p = 0.060).
    const noisy = analyzeCanary({ requests: 5000, errors: 400 }, { requests: 50, errors: 7 });
    expect(noisy.numbers.errorRateIncrease).toBeCloseTo(0.06, 12);
    expect(noisy.numbers.errorRatePValue).toBeCloseTo(0.060468559478811724, 10);
    expect(noisy.decision).toBe('advance');
  });

  it('aborts on p99 above maxP99Ms or p99Ratio × stable', () => {
    const absolute = analyzeCanary(stable, { ...healthy, p99LatencyMs: 120 }, { maxP99Ms: 100 });
    expect(absolute).toMatchObject({
      decision: 'abort',
      reasons: ['canary p99 120.0 ms exceeds max_p99_ms 100'],
    });
    const relative = analyzeCanary(stable, { ...healthy, p99LatencyMs: 250 });
    expect(relative.decision).toBe('abort');
    expect(relative.reasons[0]).toMatch(/6\.3× stable's 40\.0 ms \(limit 5×\)/);
    expect(analyzeCanary(stable, { ...healthy, p99LatencyMs: 190 }).decision).toBe('advance');
    expect(analyzeCanary(stable, { ...healthy, p99LatencyMs: 100 }, { p99Ratio: 2 }).decision).toBe('abort');
  });

  it('aborts when the canary’s predictions shift by PSI, given or computed from samples', () => {
    const given = analyzeCanary(stable, { ...healthy, predictionPsi: 0.35 });
    expect(given).toMatchObject({ decision: 'abort', numbers: { predictionPsi: 0.35 } });
    // A canary that squashes every score towards 0.5.
    const squashed = analyzeCanary(
      { ...stable, predictions: scores(3, 2000) },
      { ...healthy, predictions: scores(4, 500, (p) => 0.5 + (p - 0.5) / 4) },
    );
    expect(squashed.decision).toBe('abort');
    expect(squashed.reasons[0]).toMatch(/prediction PSI .* exceeds max_prediction_psi 0\.2/);
  });

  it('aborts when the label metric drops by more than maxLabelMetricDrop', () => {
    const result = analyzeCanary({ ...stable, labelMetric: 0.82 }, { ...healthy, labelMetric: 0.7 });
    expect(result.decision).toBe('abort');
    expect(result.reasons[0]).toMatch(/0\.1200 below stable's 0\.8200/);
  });

  it('lists every abort reason at once', () => {
    const result = analyzeCanary(
      stable,
      { requests: 500, errors: 100, p99LatencyMs: 900, predictionPsi: 1 },
      { maxErrorRate: 0.01 },
    );
    expect(result.decision).toBe('abort');
    expect(result.reasons).toHaveLength(3);
  });

  it('refuses inconsistent windows and thresholds', () => {
    expect(() => analyzeCanary(stable, { requests: 5, errors: 6 })).toThrow(/canary\.errors/);
    expect(() => analyzeCanary(stable, healthy, { minRequests: 0, maxErrorRate: 2 })).toThrow(
      /maxErrorRate must lie in \[0, 1\].*minRequests/,
    );
  });
});

describe('psiBetweenSamples', () => {
  it('is near 0 for samples of one distribution and large for shifted ones', () => {
    expect(psiBetweenSamples(scores(5, 5000), scores(6, 5000))).toBeLessThan(0.01);
    expect(
      psiBetweenSamples(
        scores(5, 5000),
        scores(7, 5000, (p) => p ** 3),
      ),
    ).toBeGreaterThan(0.5);
    expect(() => psiBetweenSamples([NaN], [1])).toThrow(/expected sample/);
  });
});
