import { InvalidArgumentError } from '@slipway/errors';
import {
  compile,
  FeatureStatus,
  type CompiledFeatureSet,
  type FeatureSpec,
  type FittedFeatureSet,
  type Row,
} from '@slipway/features';
import type { FeatureView } from './catalog.js';
import type { EntityRef, StoredValues } from './online-store.js';

/** A raw field a feature reads. */
interface InputField {
  readonly name: string;
  /** Request-time lookups (`requestTime`, `since`) read the request first, the row second. */
  readonly requestFirst: boolean;
}

/** Which fields to take from one view's stored values. */
export interface ViewRead {
  readonly view: FeatureView;
  /** 0: never expires. */
  readonly ttlMs: number;
  readonly fields: readonly { readonly name: string; readonly index: number }[];
}

/** The stored inputs of one feature, for its EXPIRED status and its own TTL. */
interface FeatureInputs {
  readonly feature: number;
  readonly fields: readonly InputField[];
  /** The spec's `ttlSeconds` in ms; Infinity when the feature has none. */
  readonly ttlMs: number;
  readonly columnStart: number;
  readonly columnEnd: number;
}

/**
 * A fitted feature set ready to serve: compiled once, with every source field resolved to the
 * view that stores it. Immutable; rebuilt when views change.
 */
export interface ServingPlan {
  readonly fitted: FittedFeatureSet;
  readonly compiled: CompiledFeatureSet;
  readonly name: string;
  readonly version: number;
  readonly contentHash: string;
  /** Number of columns. */
  readonly width: number;
  readonly featureCount: number;
  /** The views read for one entity, in order; stored values are passed aligned with it. */
  readonly reads: readonly ViewRead[];
  /** Field → the view that supplies it. */
  readonly fieldViews: Readonly<Record<string, string>>;
  /** Fields the set reads that no view holds (request-time values, or always missing). */
  readonly unresolvedFields: readonly string[];
  /**
   * The store refs of one entity, appended to `into` (aligned with {@link reads}).
   * @throws InvalidArgumentError when an entity key a read needs is missing or empty.
   */
  refsFor(entityKeys: Readonly<Record<string, string>>, into: EntityRef[], where: string): void;
  /**
   * Builds one entity's raw row from its stored values (`stored[base …]`, aligned with
   * {@link reads}) as of `referenceMs` and transforms it with libs/features into
   * `out[offset …]`, statuses into `statuses[statusOffset …]`. A stored value older than its
   * view's TTL (or its feature's `ttlSeconds`) is passed as missing, and the features that read
   * it are reported EXPIRED.
   */
  fill(
    stored: readonly (StoredValues | undefined)[],
    base: number,
    referenceMs: number,
    entityKeys: Readonly<Record<string, string>>,
    requestValues: Row | undefined,
    out: Float32Array,
    offset: number,
    statuses: Uint8Array,
    statusOffset: number,
  ): void;
}

function inputFields(feature: FeatureSpec): InputField[] {
  const source = feature.source;
  if ('field' in source) return [{ name: source.field, requestFirst: false }];
  if ('ratio' in source) {
    return source.ratio.map((name) => ({ name, requestFirst: false }));
  }
  if ('requestTime' in source) return [{ name: source.requestTime, requestFirst: true }];
  const fields: InputField[] = [{ name: source.time.field, requestFirst: false }];
  if (source.time.since !== undefined) fields.push({ name: source.time.since, requestFirst: true });
  return fields;
}

function readsFromRow(field: InputField, request: Row | undefined): boolean {
  return !field.requestFirst || request === undefined || request[field.name] === undefined;
}

/**
 * Resolves and compiles `fitted` against the registered views. A field is supplied by the
 * earliest registered view that holds it and whose entity key is one of the set's entity keys;
 * registering more views later never changes where an already resolved field comes from.
 */
export function createServingPlan(fitted: FittedFeatureSet, views: readonly FeatureView[]): ServingPlan {
  const compiled = compile(fitted);
  const spec = fitted.spec;
  const entityKeyNames = spec.entityKeys;
  const candidates = views.filter((v) => entityKeyNames.includes(v.entityKey));

  const fieldViews: Record<string, string> = {};
  const unresolvedFields: string[] = [];
  const byView = new Map<FeatureView, { name: string; index: number }[]>();
  const perFeature = spec.features.map(inputFields);
  for (const name of new Set(perFeature.flat().map((f) => f.name))) {
    if (entityKeyNames.includes(name)) continue;
    const view = candidates.find((v) => v.fieldIndex.has(name));
    if (view === undefined) {
      unresolvedFields.push(name);
      continue;
    }
    fieldViews[name] = view.name;
    let fields = byView.get(view);
    if (fields === undefined) byView.set(view, (fields = []));
    fields.push({ name, index: view.fieldIndex.get(name)! });
  }
  const reads: ViewRead[] = [...byView]
    .sort(([a], [b]) => a.seq - b.seq)
    .map(([view, fields]) => ({ view, ttlMs: view.ttlSeconds * 1000, fields }));

  const stored = new Set(Object.keys(fieldViews));
  const inputs: FeatureInputs[] = [];
  let column = 0;
  fitted.features.forEach((f, i) => {
    const start = column;
    column += f.columns.length;
    const fields = perFeature[i]!.filter((field) => stored.has(field.name));
    if (fields.length === 0) return;
    const ttlSeconds = spec.features[i]!.ttlSeconds;
    inputs.push({
      feature: i,
      fields,
      ttlMs: ttlSeconds === undefined ? Infinity : ttlSeconds * 1000,
      columnStart: start,
      columnEnd: column,
    });
  });
  const ttlFeatures = inputs.filter((fi) => fi.ttlMs !== Infinity);
  const label = `feature set "${spec.name}" v${spec.version}`;
  const neededKeys = [...new Set(reads.map((r) => r.view.entityKey))];

  return {
    fitted,
    compiled,
    name: spec.name,
    version: spec.version,
    contentHash: fitted.contentHash,
    width: compiled.width,
    featureCount: compiled.features.length,
    reads,
    fieldViews,
    unresolvedFields,

    refsFor(entityKeys, into, where) {
      for (const read of reads) {
        const entityId = entityKeys[read.view.entityKey];
        if (entityId === undefined || entityId === '') {
          throw new InvalidArgumentError(
            `${where}: entity key "${read.view.entityKey}" is missing; ${label} reads views keyed by ${neededKeys.map((k) => `"${k}"`).join(', ')}`,
          );
        }
        into.push({ view: read.view.name, entityId });
      }
    },

    fill(storedValues, base, referenceMs, entityKeys, request, out, offset, statuses, statusOffset) {
      const row: Record<string, unknown> = {};
      let expired: Set<string> | undefined;
      let eventTimes: Map<string, number> | undefined;
      for (let r = 0; r < reads.length; r++) {
        const value = storedValues[base + r];
        if (value === undefined) continue;
        const read = reads[r]!;
        if (read.ttlMs > 0 && referenceMs - value.eventTimeMs > read.ttlMs) {
          expired ??= new Set();
          for (const f of read.fields) expired.add(f.name);
          continue;
        }
        for (const f of read.fields) row[f.name] = value.values[f.index] ?? null;
        if (ttlFeatures.length > 0) {
          eventTimes ??= new Map();
          for (const f of read.fields) eventTimes.set(f.name, value.eventTimeMs);
        }
      }
      for (const key of entityKeyNames) {
        const id = entityKeys[key];
        if (id !== undefined) row[key] = id;
      }
      compiled.transformRowInto(row, out, offset, {
        requestValues: request,
        now: referenceMs,
        statuses,
        statusOffset,
      });
      if (expired !== undefined) {
        const gone = expired;
        for (const fi of inputs) {
          if (fi.fields.some((f) => gone.has(f.name) && readsFromRow(f, request))) {
            statuses[statusOffset + fi.feature] = FeatureStatus.EXPIRED;
          }
        }
      }
      if (eventTimes !== undefined) {
        const times = eventTimes;
        const stale = ttlFeatures.filter(
          (fi) =>
            statuses[statusOffset + fi.feature] !== FeatureStatus.EXPIRED &&
            fi.fields.some((f) => {
              const t = times.get(f.name);
              return t !== undefined && readsFromRow(f, request) && referenceMs - t > fi.ttlMs;
            }),
        );
        if (stale.length > 0)
          expireFeatures(row, stale, referenceMs, request, out, offset, statuses, statusOffset);
      }
    },
  };

  /**
   * A feature's own TTL expires inputs that other features may still read fresh: transform the
   * row again without them and take only the expired features' columns from that pass, so the
   * missing-value handling stays libs/features' own.
   */
  function expireFeatures(
    row: Record<string, unknown>,
    stale: readonly FeatureInputs[],
    referenceMs: number,
    request: Row | undefined,
    out: Float32Array,
    offset: number,
    statuses: Uint8Array,
    statusOffset: number,
  ): void {
    const without = { ...row };
    for (const fi of stale) for (const f of fi.fields) delete without[f.name];
    const scratch = compiled.transformRow(without, { requestValues: request, now: referenceMs });
    for (const fi of stale) {
      out.set(scratch.subarray(fi.columnStart, fi.columnEnd), offset + fi.columnStart);
      statuses[statusOffset + fi.feature] = FeatureStatus.EXPIRED;
    }
  }
}
