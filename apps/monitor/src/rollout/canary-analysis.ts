import type { registry } from '@slipway/contracts';
import {
  analyzeCanary,
  createQuantileSketch,
  psiBetweenSamples,
  type CanaryDecision,
  type CanaryWindowStats,
} from '@slipway/monitoring';
import type { Prediction } from '../store/prediction-store.js';

/** Scores each side needs before prediction PSI is judged. */
export const PSI_MIN_PREDICTIONS = 500;

/** A canary decision with the evidence it rests on. */
export type CanaryAnalysis = CanaryDecision;

/** The window statistics of one variant's primary (non-shadow) records. */
export function windowStats(records: readonly Prediction[], variant: string): CanaryWindowStats {
  const sketch = createQuantileSketch();
  const predictions: number[] = [];
  let requests = 0;
  let errors = 0;
  for (const r of records) {
    if (r.variant !== variant || r.shadow) continue;
    requests++;
    if (r.status !== 'OK') errors++;
    if (r.latencyMs >= 0 && Number.isFinite(r.latencyMs)) sketch.add(r.latencyMs);
    // The score of a binary classifier: its first output value.
    if (r.status === 'OK' && r.outputs.length > 0) predictions.push(r.outputs[0]!);
  }
  return {
    requests,
    errors,
    p99LatencyMs: sketch.count > 0 ? sketch.quantile(0.99) : undefined,
    predictions,
  };
}

/**
 * Compares a canary's candidate with its stable over the same window of prediction records,
 * against the rollout's thresholds (0 = unchecked, the library's defaults apply: error rate
 * relative to stable, p99 at most 5× stable's, prediction PSI ≤ 0.2).
 */
export function analyseCanary(
  records: readonly Prediction[],
  stable: string,
  candidate: string,
  policy: registry.CanaryPolicy,
): CanaryAnalysis {
  const s = windowStats(records, stable);
  const c = windowStats(records, candidate);
  const n = s.predictions?.length ?? 0;
  const m = c.predictions?.length ?? 0;
  // PSI on small samples is biased upwards (about (bins − 1)·(1/n + 1/m) under no change: 0.2 at
  // 50 and 200 rows), so a healthy canary would abort on noise. Prediction drift is only judged
  // once both sides have PSI_MIN_PREDICTIONS scores.
  const predictionPsi =
    n >= PSI_MIN_PREDICTIONS && m >= PSI_MIN_PREDICTIONS
      ? psiBetweenSamples(s.predictions!, c.predictions!)
      : undefined;
  const withoutSamples = (w: CanaryWindowStats): CanaryWindowStats => ({ ...w, predictions: undefined });
  return analyzeCanary(
    withoutSamples(s),
    { ...withoutSamples(c), predictionPsi },
    {
      ...(policy.maxErrorRate > 0 ? { maxErrorRate: policy.maxErrorRate } : {}),
      ...(policy.maxP99Ms > 0 ? { maxP99Ms: policy.maxP99Ms } : {}),
      ...(policy.maxPredictionPsi > 0 ? { maxPredictionPsi: policy.maxPredictionPsi } : {}),
    },
  );
}
