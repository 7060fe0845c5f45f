import { context, type Context } from '@opentelemetry/api';
import type { features } from '@slipway/contracts';
import type { ParentCall, ServiceClient } from '@slipway/service-kit';
import type { ModelInfo } from './model-info.js';
import type { ReplicaPool } from './replicas.js';
import { firstOutput, vectorRequest } from './tensors.js';

type FeaturesClient = ServiceClient<typeof features.FeatureServiceService>;

/** One entity's inputs. */
export interface EntityInput {
  readonly entityKeys: { [key: string]: string };
  readonly requestValues: { [key: string]: features.RawValue };
}

/** One entity's answer: its feature vector, feature statuses and model scores. */
export interface EntityResult {
  readonly vector: Float32Array;
  /** Aligned with `featureNames` (empty names: ask the feature set). */
  readonly statuses: readonly number[];
  readonly featureNames: readonly string[];
  readonly scores: number[];
  /** Replica calls this row needed (2 after a retry elsewhere). */
  readonly attempts: number;
  /** Rows computed together with this one. */
  readonly batchSize: number;
}

interface Pending {
  readonly input: EntityInput;
  readonly parent: ParentCall;
  readonly context: Context;
  readonly resolve: (result: EntityResult) => void;
  readonly reject: (err: unknown) => void;
}

/** Options of {@link createCoalescer}. */
export interface CoalescerOptions {
  readonly features: FeaturesClient;
  readonly pool: ReplicaPool;
  /** Feature-and-model calls in flight per model version at most; requests beyond queue. */
  readonly maxInFlight: number;
  /** Rows per coalesced call at most (the workers' batch limit). */
  readonly maxRows: number;
}

/**
 * Coalesces concurrent Predicts for the same model version into one GetFeatureVectors and one
 * ModelInfer call. A request goes out at once when fewer than `maxInFlight` calls for its
 * version are running (so a lone request pays no waiting); otherwise it waits for one to finish
 * and leaves with everything queued behind it. Under load this turns N feature lookups and N
 * model calls into one of each, which is where a router's CPU goes (per-call gRPC work).
 *
 * A batch the feature service or the model refuses as a whole (INVALID_ARGUMENT, NOT_FOUND,
 * FAILED_PRECONDITION: one entity's bad keys) is retried row by row, so each request gets its own
 * answer. The batch's calls run in the first request's trace context.
 */
export interface Coalescer {
  run(info: ModelInfo, input: EntityInput, parent: ParentCall): Promise<EntityResult>;
}

const PER_ROW_CODES = new Set([3, 5, 9]);

export function createCoalescer(options: CoalescerOptions): Coalescer {
  const lanes = new Map<string, { inFlight: number; queue: Pending[] }>();

  const single = async (info: ModelInfo, p: Pending): Promise<EntityResult> => {
    const fs = info.featureSet!;
    const fv = await options.features.getFeatureVector(
      {
        featureSet: fs,
        entityKeys: p.input.entityKeys,
        requestValues: p.input.requestValues,
        omitNames: true,
      },
      { parent: p.parent },
    );
    const vector = Float32Array.from(fv.vector);
    const { response, attempts } = await options.pool.infer(
      info.model,
      info.version,
      vectorRequest(info.model, info.version, info.input.name, info.output, vector, 1),
      p.parent,
    );
    return {
      vector,
      statuses: fv.statuses,
      featureNames: [],
      scores: firstOutput(response).values,
      attempts,
      batchSize: 1,
    };
  };

  const batch = async (info: ModelInfo, items: Pending[]): Promise<EntityResult[]> => {
    const fs = info.featureSet!;
    // The latest deadline: each caller's own deadline still applies to its own call.
    let deadline: Date | undefined;
    for (const p of items) {
      const d = p.parent.deadline;
      if (d === undefined) {
        deadline = undefined;
        break;
      }
      if (!deadline || d > deadline) deadline = d;
    }
    const parent: ParentCall = { deadline };
    const fv = await options.features.getFeatureVectors(
      { featureSet: fs, entities: items.map((p) => p.input) },
      { parent },
    );
    const n = items.length;
    const matrix = Float32Array.from(fv.matrix);
    const width = matrix.length / n;
    const { response, attempts } = await options.pool.infer(
      info.model,
      info.version,
      vectorRequest(info.model, info.version, info.input.name, info.output, matrix, n),
      parent,
    );
    const scores = firstOutput(response).values;
    const perRow = scores.length / n;
    const nFeatures = fv.featureNames.length;
    return items.map((_, row) => ({
      vector: matrix.slice(row * width, (row + 1) * width),
      statuses: fv.statuses.slice(row * nFeatures, (row + 1) * nFeatures),
      featureNames: fv.featureNames,
      scores: scores.slice(row * perRow, (row + 1) * perRow),
      attempts,
      batchSize: n,
    }));
  };

  const execute = async (info: ModelInfo, items: Pending[]): Promise<void> => {
    if (items.length === 1) {
      const p = items[0]!;
      await single(info, p).then(p.resolve, p.reject);
      return;
    }
    try {
      const results = await batch(info, items);
      items.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      if (!PER_ROW_CODES.has((err as { code?: number }).code ?? -1)) {
        for (const p of items) p.reject(err);
        return;
      }
      // One entity spoiled the batch: every request gets its own answer.
      await Promise.all(items.map((p) => single(info, p).then(p.resolve, p.reject)));
    }
  };

  const pump = (key: string, info: ModelInfo): void => {
    const lane = lanes.get(key)!;
    while (lane.inFlight < options.maxInFlight && lane.queue.length > 0) {
      const items = lane.queue.splice(0, options.maxRows);
      lane.inFlight++;
      void context
        .with(items[0]!.context, () => execute(info, items))
        .finally(() => {
          lane.inFlight--;
          if (lane.queue.length > 0) pump(key, info);
          else if (lane.inFlight === 0) lanes.delete(key);
        });
    }
  };

  return {
    run(info, input, parent) {
      const key = `${info.model}@${info.version}`;
      let lane = lanes.get(key);
      if (!lane) {
        lane = { inFlight: 0, queue: [] };
        lanes.set(key, lane);
      }
      const result = new Promise<EntityResult>((resolve, reject) =>
        lane.queue.push({ input, parent, context: context.active(), resolve, reject }),
      );
      pump(key, info);
      return result;
    },
  };
}
