/**
 * `@slipway/features`: the one implementation of feature transforms. Training tools and the
 * online feature service both call it, so one raw row gives bit-identical vectors offline and
 * online. Spec → `fit` → `FittedFeatureSet` (content-hashed) → `transform` / `transformRow`.
 */
export {
  featureSetSpecSchema,
  MAX_HASH_BUCKETS,
  parseFeatureSetSpec,
  type BucketizeTransform,
  type ClipTransform,
  type FeatureKind,
  type FeatureSetSpec,
  type FeatureSource,
  type FeatureSpec,
  type HashBucketTransform,
  type ImputeTransform,
  type Log1pTransform,
  type MinMaxTransform,
  type OneHotTransform,
  type StandardizeTransform,
  type TimePart,
  type TimeSource,
  type Transform,
} from './spec.js';
export type { Row, TimeInput } from './values.js';
export { fit, type FitOptions } from './fit.js';
export {
  computeContentHash,
  FITTED_FORMAT,
  fittedFeatureSetSchema,
  parseFitted,
  serializeFitted,
  UNKNOWN_CATEGORY,
  type FittedFeature,
  type FittedFeatureSet,
  type FittedTransform,
} from './fitted.js';
export {
  compile,
  FeatureStatus,
  MISSING_VALUE,
  transform,
  transformRow,
  type CompiledFeatureSet,
  type TransformOptions,
  type TransformResult,
  type TransformRowOptions,
} from './compile.js';
export {
  buildProfile,
  decodeProfile,
  encodeProfile,
  PROFILE_QUANTILES,
  PROFILE_VERSION,
  referenceProfileSchema,
  type CategoryFrequency,
  type FeatureProfile,
  type Histogram,
  type NumericProfile,
  type ReferenceProfile,
} from './profile.js';
export { canonicalJson } from './canonical-json.js';
export { fnv1a32, hashBucket } from './fnv.js';
export { binIndex } from './stats.js';
