import { type inference, type serving } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import { chooseVariant, variantForVersion } from '@slipway/release';
import type { ServiceImplementation } from '@slipway/service-kit';
import type { Dispatcher } from './dispatcher.js';
import type { Routing } from './routing.js';

/** PredictionService: the feature-backed calls. */
export function createPredictionService(
  dispatcher: Dispatcher,
): ServiceImplementation<typeof serving.PredictionServiceService> {
  return {
    predict: (request, ctx) => dispatcher.predict(request, { deadline: ctx.deadline }),
    predictBatch: (request, ctx) => dispatcher.predictBatch(request, { deadline: ctx.deadline }),
  };
}

/**
 * The Open Inference Protocol front door: model_name is a deployment name, so a KServe client
 * talks to the router exactly as to a worker. A model_version in the request pins that version.
 */
export function createFrontDoor(
  routing: Routing,
  dispatcher: Dispatcher,
  version: string,
): ServiceImplementation<typeof inference.GRPCInferenceServiceService> {
  /** The variant a metadata or readiness question is about: the pinned version, else the strategy's pick without a unit. */
  const variantOf = (name: string, requested: string) => {
    const deployment = routing.deployment(name);
    if (requested !== '') {
      const pinned = Number(requested);
      const variant = Number.isInteger(pinned) ? variantForVersion(deployment, pinned) : undefined;
      if (!variant) throw new InvalidArgumentError(`deployment "${name}" has no version "${requested}"`);
      return variant;
    }
    const stable =
      deployment.variants.find((v) => v.role === 1) ?? deployment.variants.find((v) => v.weight > 0);
    return (
      stable ??
      chooseVariant(deployment, {
        lookup: () => 'metadata',
        isReady: (v) => routing.pool.hasReady(v.model, v.version),
      })?.variant
    );
  };
  return {
    serverLive: async () => ({ live: true }),
    serverReady: async () => ({ ready: routing.synced() }),
    serverMetadata: async () => ({ name: 'slipway-router', version, extensions: [] }),
    async modelReady(request) {
      const variant = variantOf(request.name, request.version);
      return { ready: variant !== undefined && routing.pool.hasReady(variant.model, variant.version) };
    },
    async modelMetadata(request, ctx) {
      const variant = variantOf(request.name, request.version);
      if (!variant) throw new InvalidArgumentError(`deployment "${request.name}" has no variant`);
      const metadata = await routing.pool.metadata(variant.model, variant.version, {
        deadline: ctx.deadline,
      });
      return { ...metadata, name: request.name, versions: [String(variant.version)] };
    },
    modelInfer: (request, ctx) => dispatcher.infer(request, { deadline: ctx.deadline }),
  };
}
