/**
 * `@slipway/monitoring`: the statistics of the monitor, as pure deterministic functions with no
 * I/O. Latency sketches (DDSketch), drift against a model version's reference profile, binary
 * classification performance, A/B tests, shadow comparison and the canary decision.
 */
export {
  createQuantileSketch,
  deserializeQuantileSketch,
  QUANTILE_SKETCH_FORMAT,
  type QuantileSketch,
  type QuantileSketchJson,
  type QuantileSketchOptions,
} from './quantile-sketch.js';
export {
  chiSquareHomogeneity,
  detectDrift,
  DRIFT_DEFAULTS,
  driftColumnsFromVectors,
  histogramCounts,
  jensenShannonDistance,
  kolmogorovSmirnovAgainstProfile,
  populationStabilityIndex,
  PSI_EPSILON,
  type CategoryCounts,
  type ChiSquareResult,
  type DriftColumn,
  type DriftOptions,
  type DriftReport,
  type DriftRule,
  type DriftWindow,
  type FeatureDrift,
  type KolmogorovSmirnovResult,
} from './drift.js';
export { adjustPValues, benjaminiHochberg, bonferroni, type PValueCorrection } from './multiple-testing.js';
export {
  classificationMetrics,
  rocAuc,
  type CalibrationBin,
  type ClassificationOptions,
  type ClassificationReport,
} from './classification.js';
export {
  sampleSizeTwoProportions,
  summarize,
  twoProportionZTest,
  welchTTest,
  type ConfidenceOptions,
  type ProportionArm,
  type SampleSizeInput,
  type SampleSummary,
  type TwoProportionResult,
  type WelchResult,
} from './ab-test.js';
export {
  compareShadow,
  type ShadowDisagreement,
  type ShadowOptions,
  type ShadowPair,
  type ShadowReport,
} from './shadow.js';
export {
  analyzeCanary,
  CANARY_DEFAULTS,
  psiBetweenSamples,
  type CanaryDecision,
  type CanaryThresholds,
  type CanaryWindowStats,
} from './canary.js';
export {
  chiSquareSurvival,
  kolmogorovSurvival,
  logGamma,
  normalCdf,
  normalQuantile,
  normalSurvival,
  regularizedBeta,
  regularizedGammaP,
  regularizedGammaQ,
  studentTCdf,
  studentTQuantile,
  studentTTwoSidedPValue,
} from './special-functions.js';
