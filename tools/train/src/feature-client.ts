import { features } from '@slipway/contracts';
import { FailedPreconditionError } from '@slipway/errors';
import type { Row } from '@slipway/features';
import { createClient, type ServiceClient } from '@slipway/service-kit';
import type { HistoricalFeatureReader, HistoricalQuery } from './data-source.js';

/** A raw JS value as a feature-service `RawValue`: numbers, strings, anything else null. */
export function toRawValue(value: unknown): features.RawValue {
  if (typeof value === 'number') return { kind: { $case: 'number', number: value } };
  if (typeof value === 'string') return { kind: { $case: 'text', text: value } };
  return { kind: undefined };
}

/** A feature-service `RawValue` as a raw JS value (null when unset or null). */
export function fromRawValue(value: features.RawValue | undefined): number | string | null {
  const kind = value?.kind;
  if (kind?.$case === 'number') return kind.number;
  if (kind?.$case === 'text') return kind.text;
  return null;
}

/** A feature view to register: fields typed number or text, keyed by one entity key. */
export interface FeatureViewDefinition {
  readonly name: string;
  readonly entityKey: string;
  readonly fields: readonly { readonly name: string; readonly type: 'number' | 'text' }[];
  /** 0: never expires. */
  readonly ttlSeconds: number;
}

/** One entity's full state in one view at one time. */
export interface FeatureWrite {
  readonly view: string;
  readonly entityId: string;
  readonly eventTime: Date;
  readonly values: Row;
}

/** Totals of {@link FeatureServiceClient.writeFeatures} over all batches. */
export interface WriteTotals {
  readonly written: number;
  readonly duplicates: number;
  readonly batches: number;
}

/** What training needs from the feature service. */
export interface FeatureServiceClient {
  /** Registers the views (an identical view registered before is a no-op). */
  registerViews(views: readonly FeatureViewDefinition[]): Promise<void>;
  /** Registers `serializeFitted(fitted)`; returns whether it was new. */
  registerFeatureSet(fittedJson: string): Promise<{ readonly created: boolean; readonly ref: string }>;
  /** Writes rows in batches of `batchSize` (default 1000); each batch is atomic and idempotent. */
  writeFeatures(rows: readonly FeatureWrite[], batchSize?: number): Promise<WriteTotals>;
  /** Point-in-time reads over GetHistoricalFeatures. */
  readonly reader: HistoricalFeatureReader;
  close(): void;
}

/** Options of {@link createFeatureServiceClient}. */
export interface FeatureServiceClientOptions {
  /** `host:port` of the feature service. */
  readonly address: string;
  /** Needed for registrations and writes (deployer role); reads are open. */
  readonly token?: string;
  /** Queries per GetHistoricalFeatures call. Default 2000. */
  readonly queryBatchSize?: number;
}

const VALUE_TYPES = {
  number: features.ValueType.VALUE_TYPE_NUMBER,
  text: features.ValueType.VALUE_TYPE_TEXT,
} as const;

/**
 * A {@link HistoricalFeatureReader} over `GetHistoricalFeatures`: per query, the PRESENT values
 * of every view merged into one raw row (later views win a shared field name); EXPIRED and
 * MISSING views contribute nothing, so the feature set's impute or MISSING rules apply.
 */
export function createGrpcHistoricalReader(
  client: ServiceClient<typeof features.FeatureServiceService>,
  queryBatchSize = 2_000,
): HistoricalFeatureReader {
  return {
    async getHistoricalRows({ views, queries }) {
      const rows: Row[] = [];
      for (let start = 0; start < queries.length; start += queryBatchSize) {
        const batch = queries.slice(start, start + queryBatchSize);
        const got = await readBatch(client, views, batch);
        rows.push(...got);
      }
      return rows;
    },
  };
}

async function readBatch(
  client: ServiceClient<typeof features.FeatureServiceService>,
  views: readonly string[],
  queries: readonly HistoricalQuery[],
): Promise<Row[]> {
  const rows: Row[] = new Array<Row>(queries.length);
  let received = 0;
  const stream = client.getHistoricalFeatures({
    // Request values only feed the service's transformed vector, which raw retrieval skips.
    queries: queries.map((q) => ({
      entityKeys: { ...q.entityKeys },
      asOfTime: q.asOfTime,
      requestValues: {},
    })),
    views: [...views],
    featureSet: undefined,
  });
  for await (const message of stream) {
    message.rows.forEach((historical, k) => {
      const row: Record<string, unknown> = {};
      for (const view of historical.views) {
        if (view.status !== features.FeatureStatus.FEATURE_STATUS_PRESENT) continue;
        for (const [field, value] of Object.entries(view.values)) row[field] = fromRawValue(value);
      }
      rows[message.offset + k] = row;
      received++;
    });
  }
  if (received !== queries.length) {
    throw new FailedPreconditionError(
      `GetHistoricalFeatures returned ${received} rows for ${queries.length} queries; expected one per query`,
    );
  }
  return rows;
}

/** A {@link FeatureServiceClient} over gRPC with `createClient` from service-kit. */
export function createFeatureServiceClient(options: FeatureServiceClientOptions): FeatureServiceClient {
  const client = createClient(
    features.FeatureServiceService,
    options.address,
    options.token === undefined ? {} : { token: options.token },
  );
  return {
    async registerViews(views) {
      for (const view of views) {
        await client.registerFeatureView({
          name: view.name,
          entityKey: view.entityKey,
          fields: view.fields.map((f) => ({ name: f.name, type: VALUE_TYPES[f.type] })),
          ttlSeconds: view.ttlSeconds,
        });
      }
    },
    async registerFeatureSet(fittedJson) {
      const { featureSet, created } = await client.registerFeatureSet({ fittedJson });
      return { created, ref: `${featureSet!.name}@${featureSet!.version} ${featureSet!.contentHash}` };
    },
    async writeFeatures(rows, batchSize = 1_000) {
      let written = 0;
      let duplicates = 0;
      let batches = 0;
      for (let start = 0; start < rows.length; start += batchSize) {
        const response = await client.writeFeatures({
          rows: rows.slice(start, start + batchSize).map((r) => ({
            view: r.view,
            entityId: r.entityId,
            eventTime: r.eventTime,
            values: Object.fromEntries(Object.entries(r.values).map(([k, v]) => [k, toRawValue(v)])),
          })),
        });
        written += response.written;
        duplicates += response.duplicates;
        batches++;
      }
      return { written, duplicates, batches };
    },
    reader: createGrpcHistoricalReader(client, options.queryBatchSize),
    close: () => client.close(),
  };
}
