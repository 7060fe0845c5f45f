import { type registry } from '@slipway/contracts';
import { describe, expect, it } from 'vitest';
import type { Prediction } from '../store/prediction-store.js';
import { analyseCanary, PSI_MIN_PREDICTIONS, windowStats } from './canary-analysis.js';

/** A deterministic uniform sequence. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
}

function records(
  variant: string,
  n: number,
  options: { errorRate?: number; latency?: () => number; score?: () => number; seed?: number } = {},
): Prediction[] {
  const random = seeded(options.seed ?? 1);
  return Array.from({ length: n }, (_, i) => ({
    requestId: `${variant}-${i}`,
    variant,
    deployment: 'fraud',
    model: 'fraud',
    version: variant === 'stable' ? 1 : 2,
    features: new Float32Array(),
    outputs: new Float64Array([options.score ? options.score() : random()]),
    latencyMs: options.latency ? options.latency() : 2 + random(),
    status: random() < (options.errorRate ?? 0) ? 'INTERNAL' : 'OK',
    timeMs: i,
    experiment: '',
    experimentArm: '',
    unitKey: '',
    source: 'predict',
    shadow: false,
    featureSetHash: '',
    entityKeys: {},
    error: '',
  }));
}

const policy = (p: Partial<registry.CanaryPolicy> = {}): registry.CanaryPolicy => ({
  steps: [10, 50, 100],
  stepIndex: 0,
  intervalSeconds: 60,
  maxErrorRate: 0,
  maxP99Ms: 0,
  maxPredictionPsi: 0,
  ...p,
});

describe('canary analysis over prediction records', () => {
  it('counts only the variant’s primary records', () => {
    const all = [...records('stable', 100), ...records('candidate', 20, { errorRate: 0.5 })];
    all.push({ ...all[0]!, variant: 'candidate', shadow: true, status: 'INTERNAL' });
    const c = windowStats(all, 'candidate');
    expect(c.requests).toBe(20);
    expect(c.errors).toBeGreaterThan(0);
    expect(windowStats(all, 'stable').requests).toBe(100);
  });

  it('advances a healthy canary, holds one with too little data', () => {
    const healthy = analyseCanary(
      [...records('stable', 900), ...records('candidate', 100, { seed: 2 })],
      'stable',
      'candidate',
      policy({ maxErrorRate: 0.05 }),
    );
    expect(healthy.decision).toBe('advance');
    expect(healthy.numbers['canaryRequests']).toBe(100);
    const thin = analyseCanary(
      [...records('stable', 900), ...records('candidate', 10)],
      'stable',
      'candidate',
      policy(),
    );
    expect(thin.decision).toBe('hold');
  });

  it('aborts on a 20% error rate and on a p99 many times the stable’s, with the numbers', () => {
    const failing = analyseCanary(
      [...records('stable', 900), ...records('candidate', 200, { errorRate: 0.2, seed: 3 })],
      'stable',
      'candidate',
      policy({ maxErrorRate: 0.05 }),
    );
    expect(failing.decision).toBe('abort');
    expect(failing.numbers['canaryErrorRate']).toBeGreaterThan(0.1);
    const slow = analyseCanary(
      [...records('stable', 900), ...records('candidate', 200, { latency: () => 150 })],
      'stable',
      'candidate',
      policy(),
    );
    expect(slow.decision).toBe('abort');
    expect(slow.numbers['p99Ratio']).toBeGreaterThan(5);
  });

  it('judges prediction drift only with enough scores on both sides', () => {
    const shifted = () => 0.9;
    const few = analyseCanary(
      [...records('stable', 900), ...records('candidate', 100, { score: shifted })],
      'stable',
      'candidate',
      policy(),
    );
    expect(few.numbers['predictionPsi']).toBeUndefined();
    const many = analyseCanary(
      [
        ...records('stable', PSI_MIN_PREDICTIONS * 2),
        ...records('candidate', PSI_MIN_PREDICTIONS, { score: shifted }),
      ],
      'stable',
      'candidate',
      policy(),
    );
    expect(many.decision).toBe('abort');
    expect(many.numbers['predictionPsi']).toBeGreaterThan(0.2);
  });
});
