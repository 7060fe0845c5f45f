import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@slipway/errors';
import { FeatureStatus, parseFitted, type Row } from '@slipway/features';
import type { Catalog, FeatureSetRecord, FeatureView, FeatureViewDefinition } from './catalog.js';
import type {
  AsOfRef,
  EntityRef,
  FeatureEvent,
  OnlineStore,
  RawValue,
  WriteOutcome,
} from './online-store.js';
import { createServingPlan, type ServingPlan } from './serving-plan.js';

/** Which feature set a caller means, and the content hash it was trained with. */
export interface FeatureSetRef {
  readonly name: string;
  readonly version: number;
  readonly contentHash: string;
}

/** A registered feature set with its resolution against the views. */
export interface FeatureSetInfo {
  readonly record: FeatureSetRecord;
  readonly entityKeys: readonly string[];
  readonly featureNames: readonly string[];
  readonly columns: readonly string[];
  readonly fieldViews: Readonly<Record<string, string>>;
  readonly unresolvedFields: readonly string[];
}

/** One row of a write: an entity's full state in a view at a time; left-out fields are null. */
export interface WriteRow {
  readonly view: string;
  readonly entityId: string;
  readonly eventTime: Date | undefined;
  readonly values: Readonly<Record<string, RawValue>>;
}

/** One entity of a vector request. */
export interface EntityQuery {
  readonly entityKeys: Readonly<Record<string, string>>;
  /** Values of request-time sources; undefined when none. */
  readonly requestValues?: Row;
}

/** One served vector. */
export interface VectorResult {
  readonly plan: ServingPlan;
  readonly vector: Float32Array;
  /** One {@link FeatureStatus} code per feature. */
  readonly statuses: Uint8Array;
  readonly snapshotMs: number;
}

/** Many served vectors, row-major. */
export interface MatrixResult {
  readonly plan: ServingPlan;
  readonly rows: number;
  readonly matrix: Float32Array;
  readonly statuses: Uint8Array;
  readonly snapshotMs: number;
}

/** One point-in-time query. */
export interface HistoricalQuery extends EntityQuery {
  readonly asOf: Date | undefined;
}

/** What GetHistoricalFeatures asks for. */
export interface HistoricalRequest {
  readonly queries: readonly HistoricalQuery[];
  /** Views whose raw values to return. */
  readonly views: readonly string[];
  /** Also transform each row with this set. */
  readonly featureSet?: FeatureSetRef;
}

/** One view's values as of a query's time. */
export interface ViewValuesResult {
  readonly view: string;
  /** PRESENT, EXPIRED (values left out) or MISSING. */
  readonly status: number;
  readonly eventTimeMs?: number;
  readonly values?: Readonly<Record<string, RawValue>>;
}

/** One historical row. */
export interface HistoricalRowResult {
  readonly views: readonly ViewValuesResult[];
  readonly vector?: Float32Array;
  readonly statuses?: Uint8Array;
}

/** A run of consecutive historical rows. */
export interface HistoricalChunk {
  /** Index of `rows[0]` among the queries. */
  readonly offset: number;
  readonly rows: readonly HistoricalRowResult[];
  readonly plan?: ServingPlan;
}

/** The feature service's behaviour, independent of gRPC. */
export interface FeatureDomain {
  /** See {@link Catalog.registerFeatureSet}; `created` is false for identical content. */
  registerFeatureSet(fittedJson: string, actor: string): { info: FeatureSetInfo; created: boolean };
  /** Version 0: the latest. @throws NotFoundError */
  getFeatureSet(name: string, version: number): FeatureSetInfo;
  /** By name, newest version first; only `name` when given. */
  listFeatureSets(name?: string): FeatureSetInfo[];
  /** See {@link Catalog.registerView}; a new view re-resolves every feature set. */
  registerView(definition: FeatureViewDefinition, actor: string): { view: FeatureView; created: boolean };
  /** Every view in registration order. */
  listViews(): readonly FeatureView[];
  /** @throws NotFoundError for an unknown view; InvalidArgumentError for a bad row. */
  write(rows: readonly WriteRow[]): Promise<WriteOutcome>;
  /**
   * The vector of one entity from the latest values.
   * @throws NotFoundError for an unknown feature set.
   * @throws FailedPreconditionError when `ref.contentHash` is not the registered hash.
   */
  vector(ref: FeatureSetRef, entity: EntityQuery): Promise<VectorResult>;
  /** Vectors of many entities from one snapshot. */
  vectors(ref: FeatureSetRef, entities: readonly EntityQuery[]): Promise<MatrixResult>;
  /** Point-in-time rows, in query order, in chunks. */
  historical(request: HistoricalRequest): AsyncIterable<HistoricalChunk>;
}

/** Options of {@link createFeatureDomain}. */
export interface FeatureDomainOptions {
  readonly catalog: Catalog;
  readonly store: OnlineStore;
  /** Epoch milliseconds; default `Date.now`. */
  readonly clock?: () => number;
  /** Historical rows per chunk. Default 512. */
  readonly historicalChunkRows?: number;
}

const MAX_PROBLEMS = 10;

function valueMatches(type: 'number' | 'text', value: RawValue): boolean {
  return value === null || (type === 'number' ? typeof value === 'number' : typeof value === 'string');
}

/** Creates the domain over a catalog and an online store. */
export function createFeatureDomain(options: FeatureDomainOptions): FeatureDomain {
  const { catalog, store } = options;
  const clock = options.clock ?? Date.now;
  const chunkRows = options.historicalChunkRows ?? 512;
  // name@version → plan. Feature sets are immutable, so a plan only goes stale when views change.
  const plans = new Map<string, ServingPlan>();

  const planOf = (record: FeatureSetRecord): ServingPlan => {
    const key = `${record.name}@${record.version}`;
    let plan = plans.get(key);
    if (plan === undefined) {
      // Parsed (and its hash verified) once per set and view change, never per call.
      plan = createServingPlan(parseFitted(record.fittedJson), catalog.views());
      plans.set(key, plan);
    }
    return plan;
  };

  const notFound = (name: string, version: number): NotFoundError => {
    const latest = catalog.latestVersion(name);
    return new NotFoundError(
      latest === undefined
        ? `feature set "${name}" is not registered; register it with RegisterFeatureSet`
        : `feature set "${name}" has no version ${version} (latest is ${latest})`,
    );
  };

  const resolve = (ref: FeatureSetRef, where: string): ServingPlan => {
    if (ref.name === '' || !Number.isInteger(ref.version) || ref.version < 1) {
      throw new InvalidArgumentError(
        `${where}: feature_set needs a name and a version ≥ 1 (got "${ref.name}" v${ref.version})`,
      );
    }
    if (ref.contentHash === '') {
      throw new InvalidArgumentError(
        `${where}: feature_set.content_hash is required: the hash of the fit the model was trained with`,
      );
    }
    let plan = plans.get(`${ref.name}@${ref.version}`);
    if (plan === undefined) {
      const record = catalog.findFeatureSet(ref.name, ref.version);
      if (record === undefined) throw notFound(ref.name, ref.version);
      plan = planOf(record);
    }
    if (plan.contentHash !== ref.contentHash) {
      throw new FailedPreconditionError(
        `feature set "${ref.name}" v${ref.version} is registered with content hash ${plan.contentHash}, ` +
          `but the caller expects ${ref.contentHash}: the model was trained with another fit. ` +
          'Register that fit under a new version and point the model at it, or retrain',
      );
    }
    return plan;
  };

  const info = (record: FeatureSetRecord): FeatureSetInfo => {
    const plan = planOf(record);
    return {
      record,
      entityKeys: plan.fitted.spec.entityKeys,
      featureNames: plan.compiled.features,
      columns: plan.compiled.columns,
      fieldViews: plan.fieldViews,
      unresolvedFields: plan.unresolvedFields,
    };
  };

  const toEvents = (rows: readonly WriteRow[]): FeatureEvent[] => {
    const problems: string[] = [];
    const events: FeatureEvent[] = [];
    const report = (i: number, message: string) => {
      if (problems.length < MAX_PROBLEMS) problems.push(`rows[${i}]: ${message}`);
    };
    rows.forEach((row, i) => {
      const view = catalog.findView(row.view);
      if (view === undefined) {
        const known = catalog.views().map((v) => `"${v.name}"`);
        throw new NotFoundError(
          `rows[${i}]: feature view "${row.view}" is not registered; register it with RegisterFeatureView first ` +
            `(registered: ${known.length > 0 ? known.join(', ') : 'none'})`,
        );
      }
      const timeMs = row.eventTime?.getTime();
      if (timeMs === undefined || !Number.isFinite(timeMs)) {
        report(i, 'event_time is required');
        return;
      }
      if (row.entityId === '') {
        report(i, `entity_id is required (the value of "${view.entityKey}")`);
        return;
      }
      const values: RawValue[] = new Array<RawValue>(view.fields.length).fill(null);
      for (const [name, value] of Object.entries(row.values)) {
        const index = view.fieldIndex.get(name);
        if (index === undefined) {
          report(
            i,
            `view "${view.name}" has no field "${name}" (fields: ${view.fields.map((f) => f.name).join(', ')})`,
          );
          continue;
        }
        const type = view.fields[index]!.type;
        if (!valueMatches(type, value)) {
          report(i, `field "${name}" of view "${view.name}" holds ${type}s, got ${JSON.stringify(value)}`);
          continue;
        }
        values[index] = value;
      }
      events.push({ view: view.name, entityId: row.entityId, eventTimeMs: timeMs, values });
    });
    if (problems.length > 0) {
      throw new InvalidArgumentError(`WriteFeatures: nothing was written: ${problems.join('; ')}`);
    }
    return events;
  };

  const viewValues = (
    view: FeatureView,
    stored: { eventTimeMs: number; values: readonly RawValue[] } | undefined,
    asOfMs: number,
  ): ViewValuesResult => {
    if (stored === undefined) return { view: view.name, status: FeatureStatus.MISSING };
    const ttlMs = view.ttlSeconds * 1000;
    if (ttlMs > 0 && asOfMs - stored.eventTimeMs > ttlMs) {
      return { view: view.name, status: FeatureStatus.EXPIRED, eventTimeMs: stored.eventTimeMs };
    }
    const values: Record<string, RawValue> = {};
    view.fields.forEach((f, i) => (values[f.name] = stored.values[i] ?? null));
    return { view: view.name, status: FeatureStatus.PRESENT, eventTimeMs: stored.eventTimeMs, values };
  };

  async function* historical(request: HistoricalRequest): AsyncIterable<HistoricalChunk> {
    const plan =
      request.featureSet === undefined ? undefined : resolve(request.featureSet, 'GetHistoricalFeatures');
    if (plan === undefined && request.views.length === 0) {
      throw new InvalidArgumentError('GetHistoricalFeatures: name the views to read, a feature_set, or both');
    }
    const views: FeatureView[] = [];
    for (const name of request.views) {
      const view = catalog.findView(name);
      if (view === undefined) throw new NotFoundError(`feature view "${name}" is not registered`);
      if (!views.includes(view)) views.push(view);
    }
    for (const read of plan?.reads ?? []) if (!views.includes(read.view)) views.push(read.view);
    const planIndex = plan?.reads.map((r) => views.indexOf(r.view)) ?? [];
    const queries = request.queries;
    queries.forEach((q, i) => {
      const t = q.asOf?.getTime();
      if (t === undefined || !Number.isFinite(t)) {
        throw new InvalidArgumentError(`GetHistoricalFeatures: queries[${i}]: as_of_time is required`);
      }
      for (const view of views) {
        if (!q.entityKeys[view.entityKey]) {
          throw new InvalidArgumentError(
            `GetHistoricalFeatures: queries[${i}]: entity key "${view.entityKey}" of view "${view.name}" is missing`,
          );
        }
      }
    });

    for (let start = 0; start < queries.length; start += chunkRows) {
      const chunk = queries.slice(start, start + chunkRows);
      const refs: AsOfRef[] = [];
      for (const q of chunk) {
        const asOfMs = q.asOf!.getTime();
        for (const view of views)
          refs.push({ view: view.name, entityId: q.entityKeys[view.entityKey]!, asOfMs });
      }
      const stored = await store.readAsOf(refs);
      const rows = chunk.map((q, k): HistoricalRowResult => {
        const asOfMs = q.asOf!.getTime();
        const base = k * views.length;
        const rowViews = views.map((view, v) => viewValues(view, stored[base + v], asOfMs));
        if (plan === undefined) return { views: rowViews };
        const aligned = planIndex.map((v) => stored[base + v]);
        const vector = new Float32Array(plan.width);
        const statuses = new Uint8Array(plan.featureCount);
        plan.fill(aligned, 0, asOfMs, q.entityKeys, q.requestValues, vector, 0, statuses, 0);
        return { views: rowViews, vector, statuses };
      });
      yield { offset: start, rows, plan };
    }
  }

  return {
    registerFeatureSet(fittedJson, actor) {
      const { record, created } = catalog.registerFeatureSet(fittedJson, actor);
      return { info: info(record), created };
    },

    getFeatureSet(name, version) {
      if (name === '') throw new InvalidArgumentError('GetFeatureSet: name is required');
      const resolved = version === 0 ? catalog.latestVersion(name) : version;
      const record = resolved === undefined ? undefined : catalog.findFeatureSet(name, resolved);
      if (record === undefined) throw notFound(name, version);
      return info(record);
    },

    listFeatureSets: (name) => catalog.listFeatureSets(name).map(info),

    registerView(definition, actor) {
      const result = catalog.registerView(definition, actor);
      if (result.created) plans.clear();
      return result;
    },

    listViews: () => catalog.views(),

    async write(rows) {
      if (rows.length === 0) return { written: 0, duplicates: 0, latestUpdated: 0 };
      return store.write(toEvents(rows));
    },

    async vector(ref, entity) {
      const plan = resolve(ref, 'GetFeatureVector');
      const refs: EntityRef[] = [];
      plan.refsFor(entity.entityKeys, refs, 'GetFeatureVector');
      const snapshotMs = clock();
      const stored = await store.readLatest(refs);
      const vector = new Float32Array(plan.width);
      const statuses = new Uint8Array(plan.featureCount);
      plan.fill(stored, 0, snapshotMs, entity.entityKeys, entity.requestValues, vector, 0, statuses, 0);
      return { plan, vector, statuses, snapshotMs };
    },

    async vectors(ref, entities) {
      const plan = resolve(ref, 'GetFeatureVectors');
      const refs: EntityRef[] = [];
      entities.forEach((e, i) => plan.refsFor(e.entityKeys, refs, `GetFeatureVectors: entities[${i}]`));
      const snapshotMs = clock();
      const stored = await store.readLatest(refs);
      const n = entities.length;
      const matrix = new Float32Array(n * plan.width);
      const statuses = new Uint8Array(n * plan.featureCount);
      const perEntity = plan.reads.length;
      for (let i = 0; i < n; i++) {
        const e = entities[i]!;
        plan.fill(
          stored,
          i * perEntity,
          snapshotMs,
          e.entityKeys,
          e.requestValues,
          matrix,
          i * plan.width,
          statuses,
          i * plan.featureCount,
        );
      }
      return { plan, rows: n, matrix, statuses, snapshotMs };
    },

    historical,
  };
}
