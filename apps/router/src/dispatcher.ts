import { randomBytes } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { features, type inference, type monitor, type registry, type serving } from '@slipway/contracts';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from '@slipway/errors';
import type { RecordSink } from '@slipway/monitor-client';
import { chooseVariant, shadowsFor, variantForVersion, type VariantChoice } from '@slipway/release';
import { statusNameOf, type Logger, type ParentCall, type ServiceClient } from '@slipway/service-kit';
import { currentTraceId, SlipwayAttributes } from '@slipway/telemetry';
import { createCoalescer } from './coalescer.js';
import type { ModelInfo } from './model-info.js';
import type { RouterMetrics } from './router-metrics.js';
import type { Routing } from './routing.js';
import { firstOutput, numericValues, vectorRequest } from './tensors.js';

type FeaturesClient = ServiceClient<typeof features.FeatureServiceService>;

/** Options of {@link createDispatcher}. */
export interface DispatcherOptions {
  routing: Routing;
  features: FeaturesClient;
  records: RecordSink;
  metrics: RouterMetrics;
  /** Shadow calls in flight at most. */
  shadowConcurrency: number;
  /** Rows per ModelInfer call at most (the workers' batch limit); PredictBatch splits above it. */
  maxBatchRows: number;
  /** Coalesced feature-and-model calls in flight per model version (see {@link createCoalescer}). */
  coalesceInFlight: number;
  logger: Logger;
}

/** Inputs of a record larger than this many values are not copied into it. */
const RECORD_VALUES_LIMIT = 4096;

const STATUS_NAMES = ['UNSPECIFIED', 'PRESENT', 'MISSING', 'EXPIRED', 'DEFAULTED'];

/** The request id: the trace id of the call, or a random one of the same shape without a trace. */
function requestIdOf(): string {
  return currentTraceId() ?? randomBytes(16).toString('hex');
}

const awaitMaybe = async <T>(value: T | Promise<T>): Promise<T> => value;

/**
 * The router's request path, shared by PredictionService and the Open Inference Protocol front
 * door: choose the variant (pinned version, experiment arm, weighted pick, fallback while a
 * version is loading), build the feature vector, call a worker replica, record the prediction,
 * and mirror sampled requests to shadow variants without waiting for them.
 */
export interface Dispatcher {
  predict(request: serving.PredictRequest, parent: ParentCall): Promise<serving.PredictResponse>;
  predictBatch(
    request: serving.PredictBatchRequest,
    parent: ParentCall,
  ): Promise<serving.PredictBatchResponse>;
  infer(request: inference.ModelInferRequest, parent: ParentCall): Promise<inference.ModelInferResponse>;
  /** Shadow calls still running (for shutdown). */
  shadowsInFlight(): number;
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { routing, records, metrics, logger } = options;
  const featureNames = new Map<string, Promise<string[]>>();
  const coalescer = createCoalescer({
    features: options.features,
    pool: routing.pool,
    maxInFlight: options.coalesceInFlight,
    maxRows: options.maxBatchRows,
  });
  let shadowsInFlight = 0;

  const namesOf = (fs: NonNullable<ModelInfo['featureSet']>): Promise<string[]> => {
    let names = featureNames.get(fs.contentHash);
    if (!names) {
      names = options.features
        .getFeatureSet({ name: fs.name, version: fs.version })
        .then((r) => r.featureSet?.featureNames ?? []);
      names.catch(() => featureNames.delete(fs.contentHash));
      featureNames.set(fs.contentHash, names);
    }
    return names;
  };

  const choose = (
    deployment: registry.Deployment,
    pinned: number,
    lookup: (key: string) => string | undefined,
  ): VariantChoice => {
    if (pinned > 0) {
      const variant = variantForVersion(deployment, pinned);
      if (!variant) {
        throw new NotFoundError(
          `deployment "${deployment.name}" has no variant with version ${pinned} (it holds ${deployment.variants
            .map((v) => `${v.model}@${v.version}`)
            .join(', ')})`,
        );
      }
      return { variant };
    }
    const choice = chooseVariant(deployment, {
      lookup,
      isReady: (v) => routing.pool.hasReady(v.model, v.version),
    });
    if (!choice) throw new UnavailableError(`deployment "${deployment.name}" has no variant taking traffic`);
    return choice;
  };

  const annotate = (deployment: string, choice: VariantChoice, requestId: string): void => {
    const span = trace.getActiveSpan();
    if (!span?.isRecording()) return;
    span.setAttributes({
      [SlipwayAttributes.DEPLOYMENT]: deployment,
      [SlipwayAttributes.VARIANT]: choice.variant.name,
      [SlipwayAttributes.MODEL_NAME]: choice.variant.model,
      [SlipwayAttributes.MODEL_VERSION]: choice.variant.version,
      [SlipwayAttributes.REQUEST_ID]: requestId,
      ...(choice.experiment ? { [SlipwayAttributes.EXPERIMENT]: choice.experiment } : {}),
    });
  };

  const withFeatureSet = (info: ModelInfo): NonNullable<ModelInfo['featureSet']> => {
    if (!info.featureSet) {
      throw new FailedPreconditionError(
        `${info.model}@${info.version} was registered without a feature set, so Predict cannot build its input; call ModelInfer with tensors instead`,
      );
    }
    return info.featureSet;
  };

  const baseRecord = (
    requestId: string,
    deployment: string,
    choice: VariantChoice,
    source: string,
    started: number,
  ): monitor.PredictionRecord => ({
    requestId,
    deployment,
    variant: choice.variant.name,
    model: choice.variant.model,
    version: choice.variant.version,
    features: [],
    outputs: [],
    latencyMs: performance.now() - started,
    status: 'OK',
    time: new Date(),
    experimentArm: choice.experiment ? choice.variant.name : '',
    unitKey: choice.unit ?? '',
    source,
    shadow: false,
    featureSetHash: '',
    entityKeys: {},
    error: '',
    experiment: choice.experiment ?? '',
  });

  const fail = (
    err: unknown,
    requestId: string,
    deployment: string,
    choice: VariantChoice | undefined,
    source: string,
    started: number,
    extra: Partial<monitor.PredictionRecord> = {},
  ): never => {
    const status = statusNameOf(err);
    const latency = performance.now() - started;
    metrics.request(deployment, choice?.variant.name ?? '', status, source, latency);
    // Requests for unknown deployments are the caller's mistake, not a prediction: not recorded.
    if (choice) {
      records.record({
        ...baseRecord(requestId, deployment, choice, source, started),
        ...extra,
        status,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    throw err;
  };

  /** Runs `fn` as a shadow call when the mirror queue has room. */
  const mirror = (fn: () => Promise<void>): void => {
    if (shadowsInFlight >= options.shadowConcurrency) {
      metrics.shadowDropped();
      return;
    }
    shadowsInFlight++;
    // After the primary answer is on its way.
    setImmediate(() => {
      fn()
        .catch((err: unknown) => logger.debug({ err: (err as Error).message }, 'shadow call failed'))
        .finally(() => shadowsInFlight--);
    });
  };

  const shadowPredict = (
    deployment: registry.Deployment,
    request: serving.PredictRequest,
    requestId: string,
    primaryHash: string,
    primaryVector: Float32Array,
  ): void => {
    for (const variant of shadowsFor(deployment)) {
      mirror(async () => {
        const started = performance.now();
        const choice: VariantChoice = { variant };
        let vector = primaryVector;
        const base = (): monitor.PredictionRecord => ({
          ...baseRecord(requestId, deployment.name, choice, 'predict', started),
          shadow: true,
          entityKeys: request.entityKeys,
        });
        try {
          const info = await awaitMaybe(routing.models.get(variant.model, variant.version));
          const fs = withFeatureSet(info);
          if (fs.contentHash !== primaryHash) {
            const fv = await options.features.getFeatureVector({
              featureSet: fs,
              entityKeys: request.entityKeys,
              requestValues: request.values,
              omitNames: true,
            });
            vector = Float32Array.from(fv.vector);
          }
          const { response } = await routing.pool.infer(
            variant.model,
            variant.version,
            vectorRequest(variant.model, variant.version, info.input.name, info.output, vector, 1),
            {},
          );
          records.record({
            ...base(),
            features: Array.from(vector),
            outputs: firstOutput(response).values,
            featureSetHash: fs.contentHash,
            latencyMs: performance.now() - started,
          });
        } catch (err) {
          records.record({
            ...base(),
            status: statusNameOf(err),
            error: (err as Error).message,
            latencyMs: performance.now() - started,
          });
        }
      });
    }
  };

  const lookupIn =
    (request: serving.PredictRequest) =>
    (key: string): string | undefined => {
      const entity = request.entityKeys[key];
      if (entity !== undefined) return entity;
      const value = request.values[key]?.kind;
      if (!value) return undefined;
      return value.$case === 'text' ? value.text : String(value.number);
    };

  const predictOne = async (
    request: serving.PredictRequest,
    parent: ParentCall,
  ): Promise<serving.PredictResponse> => {
    const started = performance.now();
    const requestId = requestIdOf();
    let choice: VariantChoice | undefined;
    let vector: Float32Array | undefined;
    let hash = '';
    try {
      if (!request.deployment) throw new InvalidArgumentError('deployment is required');
      const deployment = routing.deployment(request.deployment);
      choice = choose(deployment, request.version, lookupIn(request));
      annotate(deployment.name, choice, requestId);
      const { variant } = choice;
      const info = await awaitMaybe(routing.models.get(variant.model, variant.version));
      const fs = withFeatureSet(info);
      hash = fs.contentHash;
      const row = await coalescer.run(
        info,
        { entityKeys: request.entityKeys, requestValues: request.values },
        parent,
      );
      vector = row.vector;
      if (row.attempts > 1) metrics.retried();
      const scores = row.scores;
      const featureStatus: Record<string, string> = {};
      if (row.statuses.some((s) => s !== features.FeatureStatus.FEATURE_STATUS_PRESENT)) {
        const names =
          row.featureNames.length > 0 ? row.featureNames : await namesOf(fs).catch(() => [] as string[]);
        row.statuses.forEach((s, i) => {
          if (s !== features.FeatureStatus.FEATURE_STATUS_PRESENT)
            featureStatus[names[i] ?? `feature_${i}`] = STATUS_NAMES[s] ?? String(s);
        });
      }
      const span = trace.getActiveSpan();
      if (row.batchSize > 1 && span?.isRecording())
        span.setAttribute(SlipwayAttributes.BATCH_SIZE, row.batchSize);
      const latency = performance.now() - started;
      metrics.request(deployment.name, variant.name, 'OK', 'predict', latency);
      records.record({
        ...baseRecord(requestId, deployment.name, choice, 'predict', started),
        features: Array.from(vector),
        outputs: scores,
        featureSetHash: hash,
        entityKeys: request.entityKeys,
      });
      if (request.version === 0) shadowPredict(deployment, request, requestId, hash, vector);
      return {
        scores,
        model: variant.model,
        version: variant.version,
        variant: variant.name,
        requestId,
        experiment: choice.experiment ?? '',
        featureStatus,
      };
    } catch (err) {
      return fail(err, requestId, request.deployment, choice, 'predict', started, {
        entityKeys: request.entityKeys,
        featureSetHash: hash,
        features: vector ? Array.from(vector) : [],
      });
    }
  };

  const inferParam = (value: string): inference.InferParameter => ({
    parameterChoice: { $case: 'stringParam', stringParam: value },
  });

  return {
    predict: predictOne,

    async predictBatch(request, parent) {
      if (request.requests.length === 0) return { responses: [] };
      // Each entity is routed on its own (an experiment assigns per unit), then the entities
      // that share a variant go to the feature service and the worker together.
      const started = performance.now();
      const requestId = requestIdOf();
      const groups = new Map<string, { choice: VariantChoice; deployment: string; indexes: number[] }>();
      request.requests.forEach((r, i) => {
        if (!r.deployment) throw new InvalidArgumentError(`requests[${i}]: deployment is required`);
        const deployment = routing.deployment(r.deployment);
        const choice = choose(deployment, r.version, lookupIn(r));
        const key = `${deployment.name}\u0000${choice.variant.name}\u0000${choice.experiment ?? ''}`;
        const group = groups.get(key);
        if (group) group.indexes.push(i);
        else groups.set(key, { choice, deployment: deployment.name, indexes: [i] });
      });
      const responses: serving.PredictResponse[] = new Array(request.requests.length);
      await Promise.all(
        [...groups.values()].map(async ({ choice, deployment, indexes }) => {
          const { variant } = choice;
          try {
            const info = await awaitMaybe(routing.models.get(variant.model, variant.version));
            const fs = withFeatureSet(info);
            const fv = await options.features.getFeatureVectors(
              {
                featureSet: fs,
                entities: indexes.map((i) => ({
                  entityKeys: request.requests[i]!.entityKeys,
                  requestValues: request.requests[i]!.values,
                })),
              },
              { parent },
            );
            const matrix = Float32Array.from(fv.matrix);
            const width = matrix.length / indexes.length;
            // Workers cap the rows of one request; larger groups go as several calls at once.
            const chunks: Array<Promise<number[]>> = [];
            for (let first = 0; first < indexes.length; first += options.maxBatchRows) {
              const rows = Math.min(options.maxBatchRows, indexes.length - first);
              const part = matrix.subarray(first * width, (first + rows) * width);
              const call = vectorRequest(
                variant.model,
                variant.version,
                info.input.name,
                info.output,
                part,
                rows,
              );
              chunks.push(
                routing.pool
                  .infer(variant.model, variant.version, call, parent)
                  .then(({ response }) => firstOutput(response).values),
              );
            }
            const scores = (await Promise.all(chunks)).flat();
            const perRow = scores.length / indexes.length;
            const nFeatures = fv.featureNames.length;
            const latency = performance.now() - started;
            indexes.forEach((reqIndex, row) => {
              const rowScores = scores.slice(row * perRow, (row + 1) * perRow);
              const featureStatus: Record<string, string> = {};
              for (let f = 0; f < nFeatures; f++) {
                const s = fv.statuses[row * nFeatures + f]!;
                if (s !== features.FeatureStatus.FEATURE_STATUS_PRESENT)
                  featureStatus[fv.featureNames[f]!] = STATUS_NAMES[s] ?? String(s);
              }
              const rowId =
                indexes.length === 1 && groups.size === 1 ? requestId : `${requestId}-${reqIndex}`;
              responses[reqIndex] = {
                scores: rowScores,
                model: variant.model,
                version: variant.version,
                variant: variant.name,
                requestId: rowId,
                experiment: choice.experiment ?? '',
                featureStatus,
              };
              metrics.request(deployment, variant.name, 'OK', 'predict', latency);
              records.record({
                ...baseRecord(rowId, deployment, choice, 'predict', started),
                features: Array.from(matrix.subarray(row * width, (row + 1) * width)),
                outputs: rowScores,
                featureSetHash: fs.contentHash,
                entityKeys: request.requests[reqIndex]!.entityKeys,
              });
            });
          } catch (err) {
            for (const reqIndex of indexes) {
              metrics.request(
                deployment,
                variant.name,
                statusNameOf(err),
                'predict',
                performance.now() - started,
              );
              records.record({
                ...baseRecord(`${requestId}-${reqIndex}`, deployment, choice, 'predict', started),
                status: statusNameOf(err),
                error: (err as Error).message,
              });
            }
            throw err;
          }
        }),
      );
      return { responses };
    },

    async infer(request, parent) {
      const started = performance.now();
      const requestId = requestIdOf();
      let choice: VariantChoice | undefined;
      try {
        const deployment = routing.deployment(request.modelName);
        let pinned = 0;
        if (request.modelVersion !== '') {
          pinned = Number(request.modelVersion);
          if (!Number.isInteger(pinned) || pinned <= 0)
            throw new InvalidArgumentError(`model_version "${request.modelVersion}" is not a version number`);
        }
        choice = choose(deployment, pinned, (key) => {
          const p = request.parameters[key]?.parameterChoice;
          if (!p) return undefined;
          return p.$case === 'stringParam'
            ? p.stringParam
            : String(p.$case === 'int64Param' ? p.int64Param : p.boolParam);
        });
        annotate(deployment.name, choice, requestId);
        const { variant } = choice;
        const forward: inference.ModelInferRequest = {
          ...request,
          modelName: variant.model,
          modelVersion: String(variant.version),
        };
        const { response, attempts } = await routing.pool.infer(
          variant.model,
          variant.version,
          forward,
          parent,
        );
        if (attempts > 1) metrics.retried();
        const latency = performance.now() - started;
        metrics.request(deployment.name, variant.name, 'OK', 'infer', latency);
        const input = request.inputs[0];
        records.record({
          ...baseRecord(requestId, deployment.name, choice, 'infer', started),
          features:
            (request.inputs.length === 1 &&
              input &&
              numericValues(
                input.datatype,
                input.shape,
                input.contents,
                request.rawInputContents[0],
                RECORD_VALUES_LIMIT,
              )) ||
            [],
          outputs: firstOutput(response).values.slice(0, RECORD_VALUES_LIMIT),
        });
        if (pinned === 0) {
          for (const shadow of shadowsFor(deployment)) {
            mirror(async () => {
              const shadowStarted = performance.now();
              const shadowChoice: VariantChoice = { variant: shadow };
              try {
                const out = await routing.pool.infer(
                  shadow.model,
                  shadow.version,
                  { ...request, modelName: shadow.model, modelVersion: String(shadow.version) },
                  {},
                );
                records.record({
                  ...baseRecord(requestId, deployment.name, shadowChoice, 'infer', shadowStarted),
                  shadow: true,
                  outputs: firstOutput(out.response).values.slice(0, RECORD_VALUES_LIMIT),
                });
              } catch (err) {
                records.record({
                  ...baseRecord(requestId, deployment.name, shadowChoice, 'infer', shadowStarted),
                  shadow: true,
                  status: statusNameOf(err),
                  error: (err as Error).message,
                });
              }
            });
          }
        }
        return {
          ...response,
          modelName: deployment.name,
          id: request.id,
          parameters: {
            ...response.parameters,
            'slipway.variant': inferParam(variant.name),
            'slipway.request_id': inferParam(requestId),
            ...(choice.experiment ? { 'slipway.experiment': inferParam(choice.experiment) } : {}),
          },
        };
      } catch (err) {
        return fail(err, requestId, request.modelName, choice, 'infer', started);
      }
    },

    shadowsInFlight: () => shadowsInFlight,
  };
}
