import { features } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import type { CallContext, ServiceImplementation, ServicePolicy } from '@slipway/service-kit';
import { SlipwayAttributes, withSpan } from '@slipway/telemetry';
import type { FeatureView, ValueType } from '../domain/catalog.js';
import type { FeatureDomain, FeatureSetInfo, FeatureSetRef } from '../domain/feature-domain.js';
import { fromProtoValues, requestRow, toProtoValues } from './raw-values.js';

type Definition = typeof features.FeatureServiceService;

/** Reads are open; registering and writing need the deployer role. */
export const featurePolicy: ServicePolicy<Definition> = {
  registerFeatureSet: 'deployer',
  registerFeatureView: 'deployer',
  writeFeatures: 'deployer',
};

const SCOPE = '@slipway/feature-service';

function actorOf(ctx: CallContext): string {
  return ctx.principal?.actor ?? 'anonymous';
}

function refOf(ref: features.FeatureSetRef | undefined, where: string): FeatureSetRef {
  if (ref === undefined) throw new InvalidArgumentError(`${where}: feature_set is required`);
  return ref;
}

function toProtoFeatureSet(info: FeatureSetInfo): features.FeatureSet {
  const r = info.record;
  return {
    name: r.name,
    version: r.version,
    contentHash: r.contentHash,
    entityKeys: [...info.entityKeys],
    featureNames: [...info.featureNames],
    columns: [...info.columns],
    fieldViews: { ...info.fieldViews },
    unresolvedFields: [...info.unresolvedFields],
    registeredAt: r.registeredAt,
    registeredBy: r.registeredBy,
  };
}

const toValueType = (t: ValueType): features.ValueType =>
  t === 'number' ? features.ValueType.VALUE_TYPE_NUMBER : features.ValueType.VALUE_TYPE_TEXT;

function fromValueType(t: features.ValueType): ValueType | undefined {
  if (t === features.ValueType.VALUE_TYPE_NUMBER) return 'number';
  if (t === features.ValueType.VALUE_TYPE_TEXT) return 'text';
  return undefined;
}

function toProtoView(view: FeatureView): features.FeatureView {
  return {
    name: view.name,
    entityKey: view.entityKey,
    fields: view.fields.map((f) => ({ name: f.name, type: toValueType(f.type) })),
    ttlSeconds: view.ttlSeconds,
    createdAt: view.createdAt,
    createdBy: view.createdBy,
  };
}

/** `slipway.features.v1.FeatureService` over the feature domain. */
export function createFeatureService(domain: FeatureDomain): ServiceImplementation<Definition> {
  return {
    async registerFeatureSet(request, ctx) {
      if (request.fittedJson.trim() === '') {
        throw new InvalidArgumentError(
          'RegisterFeatureSet: fitted_json is required (the output of serializeFitted)',
        );
      }
      const { info, created } = domain.registerFeatureSet(request.fittedJson, actorOf(ctx));
      const set = info.record;
      ctx.logger.info(
        { featureSet: `${set.name}@${set.version}`, contentHash: set.contentHash, created },
        created ? 'feature set registered' : 'feature set already registered',
      );
      return { featureSet: toProtoFeatureSet(info), created };
    },

    async getFeatureSet(request) {
      const info = domain.getFeatureSet(request.name, request.version);
      return { featureSet: toProtoFeatureSet(info), fittedJson: info.record.fittedJson };
    },

    async listFeatureSets(request) {
      return { featureSets: domain.listFeatureSets(request.name || undefined).map(toProtoFeatureSet) };
    },

    async registerFeatureView(request, ctx) {
      const fields = request.fields.map((f, i) => {
        const type = fromValueType(f.type);
        if (type === undefined) {
          throw new InvalidArgumentError(
            `RegisterFeatureView: fields[${i}] ("${f.name}"): type must be VALUE_TYPE_NUMBER or VALUE_TYPE_TEXT`,
          );
        }
        return { name: f.name, type };
      });
      const { view, created } = domain.registerView(
        { name: request.name, entityKey: request.entityKey, fields, ttlSeconds: request.ttlSeconds },
        actorOf(ctx),
      );
      if (created) ctx.logger.info({ view: view.name, entityKey: view.entityKey }, 'feature view registered');
      return { view: toProtoView(view), created };
    },

    async listFeatureViews() {
      return { views: domain.listViews().map(toProtoView) };
    },

    async writeFeatures(request) {
      return domain.write(
        request.rows.map((row) => ({
          view: row.view,
          entityId: row.entityId,
          eventTime: row.eventTime,
          values: fromProtoValues(row.values),
        })),
      );
    },

    async getFeatureVector(request) {
      const ref = refOf(request.featureSet, 'GetFeatureVector');
      const result = await withSpan(
        'features.vector',
        { [SlipwayAttributes.FEATURE_SET]: `${ref.name}@${ref.version}#${ref.contentHash}` },
        () =>
          domain.vector(ref, {
            entityKeys: request.entityKeys,
            requestValues: requestRow(request.requestValues),
          }),
        SCOPE,
      );
      const { plan } = result;
      const names = !request.omitNames;
      return {
        vector: Array.from(result.vector),
        columns: names ? [...plan.compiled.columns] : [],
        statuses: Array.from(result.statuses),
        featureNames: names ? [...plan.compiled.features] : [],
        snapshotTime: new Date(result.snapshotMs),
      };
    },

    async getFeatureVectors(request) {
      const result = await domain.vectors(
        refOf(request.featureSet, 'GetFeatureVectors'),
        request.entities.map((e) => ({
          entityKeys: e.entityKeys,
          requestValues: requestRow(e.requestValues),
        })),
      );
      const { plan } = result;
      return {
        matrix: Array.from(result.matrix),
        columns: [...plan.compiled.columns],
        statuses: Array.from(result.statuses),
        featureNames: [...plan.compiled.features],
        snapshotTime: new Date(result.snapshotMs),
      };
    },

    async *getHistoricalFeatures(request) {
      const ref = request.featureSet;
      const chunks = domain.historical({
        queries: request.queries.map((q) => ({
          entityKeys: q.entityKeys,
          asOf: q.asOfTime,
          requestValues: requestRow(q.requestValues),
        })),
        views: request.views,
        featureSet: ref,
      });
      for await (const { offset, rows, plan } of chunks) {
        yield {
          offset,
          columns: plan ? [...plan.compiled.columns] : [],
          featureNames: plan ? [...plan.compiled.features] : [],
          rows: rows.map((row) => ({
            views: row.views.map((v) => ({
              view: v.view,
              status: v.status,
              eventTime: v.eventTimeMs === undefined ? undefined : new Date(v.eventTimeMs),
              values: v.values === undefined ? {} : toProtoValues(v.values),
            })),
            vector: row.vector ? Array.from(row.vector) : [],
            statuses: row.statuses ? Array.from(row.statuses) : [],
          })),
        };
      }
    },
  };
}
