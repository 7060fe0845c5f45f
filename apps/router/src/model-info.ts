import { type registry } from '@slipway/contracts';
import { FailedPreconditionError, UnavailableError } from '@slipway/errors';
import type { Logger, ServiceClient } from '@slipway/service-kit';

/** What the router needs to know about a model version to call it with a feature vector. */
export interface ModelInfo {
  readonly model: string;
  readonly version: number;
  /** The first input: the feature vector goes there as FP32 [rows, width]. */
  readonly input: { readonly name: string; readonly datatype: string; readonly width: number };
  /** The output whose values are the scores. */
  readonly output: string;
  /** The fitted feature set the version was trained with; undefined for models without one. */
  readonly featureSet?: { readonly name: string; readonly version: number; readonly contentHash: string };
}

/** Reads a model version's signature and lineage into a {@link ModelInfo}. */
export function modelInfoOf(version: registry.ModelVersion): ModelInfo {
  const input = version.signature?.inputs[0];
  const output = version.signature?.outputs[0];
  const width = Number(input?.shape[input.shape.length - 1] ?? -1n);
  const fs = version.lineage?.featureSet;
  return {
    model: version.model,
    version: version.version,
    input: { name: input?.name ?? '', datatype: input?.datatype ?? '', width },
    output: output?.name ?? '',
    featureSet:
      fs && fs.name ? { name: fs.name, version: fs.version, contentHash: fs.contentHash } : undefined,
  };
}

/**
 * Model versions are immutable, so their info is fetched from the registry once and kept. The
 * router prefetches every version its deployments name when they change, so the hot path finds
 * it in memory and keeps working while the registry is down.
 */
export interface ModelInfoCache {
  /** The info, from memory when known (the common case), else from the registry. */
  get(model: string, version: number): ModelInfo | Promise<ModelInfo>;
  /** Starts fetching versions not yet known; failures are logged and retried on next use. */
  prefetch(versions: Iterable<{ model: string; version: number }>): void;
}

export function createModelInfoCache(
  models: ServiceClient<typeof registry.ModelServiceService>,
  logger: Logger,
): ModelInfoCache {
  const known = new Map<string, ModelInfo>();
  const pending = new Map<string, Promise<ModelInfo>>();
  const fetch = (model: string, version: number): Promise<ModelInfo> => {
    const key = `${model}@${version}`;
    let p = pending.get(key);
    if (p) return p;
    p = models
      .getModelVersion({ model, version, alias: '' }, { deadline: 5_000 })
      .then(({ version: mv }) => {
        if (!mv) throw new FailedPreconditionError(`the registry returned no version for ${key}`);
        const info = modelInfoOf(mv);
        known.set(key, info);
        return info;
      })
      .catch((err: unknown) => {
        const code = (err as { code?: number }).code;
        // Not found is final; anything else (registry down) is retried on the next request.
        if (code === 5) throw new FailedPreconditionError(`model version ${key} is not registered`);
        throw new UnavailableError(
          `model version ${key}: the registry could not be asked (${(err as Error).message})`,
        );
      })
      .finally(() => pending.delete(key));
    pending.set(key, p);
    return p;
  };
  return {
    get(model, version) {
      return known.get(`${model}@${version}`) ?? fetch(model, version);
    },
    prefetch(versions) {
      for (const { model, version } of versions) {
        if (known.has(`${model}@${version}`)) continue;
        fetch(model, version).catch((err: unknown) =>
          logger.warn({ model, version, err: (err as Error).message }, 'model version info not fetched yet'),
        );
      }
    },
  };
}
