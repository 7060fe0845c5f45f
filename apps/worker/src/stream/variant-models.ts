import path from 'node:path';
import type { features, registry } from '@slipway/contracts';
import { FailedPreconditionError, NotFoundError } from '@slipway/errors';
import { createTabularScorer, loadModel, type TabularScorer } from '@slipway/model-runtime';
import { createArtifactCache } from '@slipway/registry-client';
import type { Logger, ServiceClient } from '@slipway/service-kit';

/** A model version loaded in this process, with the feature set that builds its input. */
export interface VersionRuntime {
  readonly model: string;
  readonly version: number;
  readonly featureSet: { readonly name: string; readonly version: number; readonly contentHash: string };
  /** The feature set's entity keys: every event must carry them. */
  readonly entityKeys: readonly string[];
  readonly scorer: TabularScorer;
}

/** Options of {@link createVariantModels}. */
export interface VariantModelsOptions {
  readonly models: ServiceClient<typeof registry.ModelServiceService>;
  readonly features: ServiceClient<typeof features.FeatureServiceService>;
  /** Artifact cache directory (`<dataDir>/artifacts`). */
  readonly cacheDir: string;
  /** Where sessions run. Default in-process. */
  readonly executor?: 'in-process' | 'worker-threads';
  readonly logger: Logger;
  /** Delay before a failed load is tried again. Default 2000 ms. */
  readonly retryMs?: number;
  /** How long a version no variant uses stays loaded (batches in flight may still use it). Default 30 s. */
  readonly unloadAfterMs?: number;
  /** Called when a version finishes loading. */
  readonly onLoaded?: (runtime: VersionRuntime) => void;
}

/**
 * The model versions a deployment's variants use, loaded in this process (no RPC per event):
 * each version's artifact through the verified cache, its onnxruntime session, and its feature
 * set's entity keys. Versions load in the background as the deployment changes; a version is
 * "ready" once loaded, which is what variant choice checks.
 */
export interface VariantModels {
  /** The loaded version, or undefined while it is loading (or failed to load). */
  get(model: string, version: number): VersionRuntime | undefined;
  /** Loads every version the deployment's variants name; unloads (later) those it no longer names. */
  sync(deployment: registry.Deployment | undefined): void;
  /** Resolves once the version is loaded (for tests and start-up). */
  whenLoaded(model: string, version: number): Promise<VersionRuntime>;
  close(): Promise<void>;
}

const keyOf = (model: string, version: number): string => `${model}@${version}`;

interface Entry {
  runtime?: VersionRuntime;
  loading?: Promise<void>;
  waiters: Array<(runtime: VersionRuntime) => void>;
  unloadTimer?: NodeJS.Timeout;
  retryTimer?: NodeJS.Timeout;
  wanted: boolean;
}

export function createVariantModels(options: VariantModelsOptions): VariantModels {
  const { logger } = options;
  const retryMs = options.retryMs ?? 2000;
  const unloadAfterMs = options.unloadAfterMs ?? 30_000;
  const entries = new Map<string, Entry>();
  const cache = createArtifactCache({
    dir: path.resolve(options.cacheDir),
    download: (request) => options.models.downloadArtifact(request, { deadline: Infinity }),
  });
  let closed = false;

  const loadVersion = async (model: string, version: number): Promise<VersionRuntime> => {
    const { version: found } = await options.models.getModelVersion({ model, version, alias: '' });
    if (!found) throw new NotFoundError(`model "${model}" has no version ${version}`);
    const ref = found.lineage?.featureSet;
    if (!ref?.name) {
      throw new FailedPreconditionError(
        `model "${model}" version ${version} was registered without a feature set, so stream scoring cannot build its input; register it with --feature-set`,
      );
    }
    const { featureSet } = await options.features.getFeatureSet({ name: ref.name, version: ref.version });
    if (!featureSet) throw new NotFoundError(`feature set "${ref.name}" v${ref.version} is not registered`);
    if (featureSet.contentHash !== ref.contentHash) {
      throw new FailedPreconditionError(
        `feature set "${ref.name}" v${ref.version} has content hash ${featureSet.contentHash} in the feature service but model "${model}" version ${version} records ${ref.contentHash}`,
      );
    }
    const file = await cache.fetch({
      model,
      version,
      sha256: found.artifactSha256,
      size: Number(found.artifactSize),
    });
    const loaded = await loadModel({
      path: file,
      name: model,
      version: String(version),
      expectedSha256: found.artifactSha256,
      executor:
        options.executor === 'worker-threads'
          ? { kind: 'worker-threads', threads: 1 }
          : { kind: 'in-process' },
      // One thread per operator, as the online worker defaults to: the worker's own thread and
      // the feature service, NATS and the monitor share the cores, and onnxruntime's spinning
      // pool only competes with them for the small tabular models streams score.
      sessionOptions: { intraOpNumThreads: 1 },
    });
    try {
      const scorer = await createTabularScorer(loaded, featureSet.columns.length, 'stream scoring', ref.name);
      return {
        model,
        version,
        featureSet: { name: ref.name, version: ref.version, contentHash: ref.contentHash },
        entityKeys: featureSet.entityKeys,
        scorer,
      };
    } catch (err) {
      await loaded.close();
      throw err;
    }
  };

  const startLoading = (model: string, version: number, entry: Entry): void => {
    if (entry.runtime || entry.loading || closed) return;
    entry.loading = loadVersion(model, version).then(
      (runtime) => {
        entry.loading = undefined;
        if (closed || !entry.wanted) {
          void runtime.scorer.model.close();
          return;
        }
        entry.runtime = runtime;
        logger.info(
          { model, version, feature_set: runtime.featureSet.name },
          'model version loaded for streaming',
        );
        options.onLoaded?.(runtime);
        const waiters = entry.waiters;
        entry.waiters = [];
        for (const w of waiters) w(runtime);
      },
      (err: unknown) => {
        entry.loading = undefined;
        if (closed || !entry.wanted) return;
        logger.warn(
          { model, version, err: (err as Error).message },
          'model version failed to load; retrying',
        );
        entry.retryTimer = setTimeout(() => {
          entry.retryTimer = undefined;
          startLoading(model, version, entry);
        }, retryMs);
        entry.retryTimer.unref();
      },
    );
  };

  const entryFor = (model: string, version: number): Entry => {
    const key = keyOf(model, version);
    let entry = entries.get(key);
    if (!entry) {
      entry = { waiters: [], wanted: true };
      entries.set(key, entry);
    }
    return entry;
  };

  const unload = (key: string, entry: Entry): void => {
    entries.delete(key);
    if (entry.retryTimer) clearTimeout(entry.retryTimer);
    if (entry.runtime) {
      logger.info({ model: entry.runtime.model, version: entry.runtime.version }, 'model version unloaded');
      void entry.runtime.scorer.model.close();
    }
  };

  return {
    get(model, version) {
      return entries.get(keyOf(model, version))?.runtime;
    },
    sync(deployment) {
      if (closed) return;
      const wanted = new Set<string>();
      for (const v of deployment?.variants ?? []) {
        const key = keyOf(v.model, v.version);
        wanted.add(key);
        const entry = entryFor(v.model, v.version);
        entry.wanted = true;
        if (entry.unloadTimer) {
          clearTimeout(entry.unloadTimer);
          entry.unloadTimer = undefined;
        }
        startLoading(v.model, v.version, entry);
      }
      for (const [key, entry] of entries) {
        if (wanted.has(key) || entry.unloadTimer || entry.waiters.length > 0) continue;
        entry.wanted = false;
        entry.unloadTimer = setTimeout(() => {
          if (!entry.wanted) unload(key, entry);
        }, unloadAfterMs);
        entry.unloadTimer.unref();
      }
    },
    whenLoaded(model, version) {
      const entry = entryFor(model, version);
      if (entry.runtime) return Promise.resolve(entry.runtime);
      startLoading(model, version, entry);
      return new Promise((resolve) => entry.waiters.push(resolve));
    },
    async close() {
      closed = true;
      const closing: Array<Promise<void>> = [];
      for (const entry of entries.values()) {
        if (entry.unloadTimer) clearTimeout(entry.unloadTimer);
        if (entry.retryTimer) clearTimeout(entry.retryTimer);
        if (entry.runtime) closing.push(entry.runtime.scorer.model.close());
      }
      entries.clear();
      await Promise.all(closing);
    },
  };
}
