/**
 * Span and metric attribute keys that are Slipway's own. Standard keys (rpc.*, server.*,
 * service.name) come from `@opentelemetry/semantic-conventions`; these complement them so an SRE
 * can search Jaeger for one deployment, model version or request.
 */
export const SlipwayAttributes = {
  /** Deployment name, as requested by the caller (`model_name` on the inference protocol). */
  DEPLOYMENT: 'slipway.deployment',
  /** Registered model name. */
  MODEL_NAME: 'slipway.model.name',
  /** Model version number that served the request. */
  MODEL_VERSION: 'slipway.model.version',
  /** Variant chosen by the router (e.g. `stable`, `canary`, `shadow`, an A/B arm). */
  VARIANT: 'slipway.variant',
  /** Request id returned to the caller and joined with outcomes. */
  REQUEST_ID: 'slipway.request_id',
  /** Number of requests executed together in one dynamic batch. */
  BATCH_SIZE: 'slipway.batch.size',
  /** Time a request waited in the batching queue, in milliseconds. */
  QUEUE_TIME_MS: 'slipway.queue.time_ms',
  /** Experiment name for A/B assignments. */
  EXPERIMENT: 'slipway.experiment',
  /** Release strategy of the deployment (`blue-green`, `canary`, `shadow`, `ab`). */
  STRATEGY: 'slipway.strategy',
  /** Feature set reference (name and content hash) used to build the feature vector. */
  FEATURE_SET: 'slipway.feature_set',
  /** Registry revision a component acted on. */
  REVISION: 'slipway.revision',
  /** Worker replica id that executed the model. */
  WORKER_ID: 'slipway.worker.id',
} as const;

/** One of the {@link SlipwayAttributes} keys. */
export type SlipwayAttributeKey = (typeof SlipwayAttributes)[keyof typeof SlipwayAttributes];
