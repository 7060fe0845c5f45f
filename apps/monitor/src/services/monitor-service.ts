import type { monitor } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import type { ServiceImplementation, ServicePolicy } from '@slipway/service-kit';
import type { MonitorMetrics } from '../monitor-metrics.js';
import type { InsertOutcome, Prediction, PredictionStore } from '../store/prediction-store.js';
import { fromProtoRecord, recordProblems, toProtoRecord } from './records.js';

type Definition = typeof monitor.MonitorServiceService;

/** Reads are open; ingesting needs the deployer role. */
export const monitorPolicy: ServicePolicy<Definition> = {
  ingestPredictions: 'deployer',
};

/** ListPredictions' page size when the request names none. */
export const DEFAULT_LIST_LIMIT = 100;
/** The largest page ListPredictions returns. */
export const MAX_LIST_LIMIT = 10_000;

/** Options of {@link createMonitorService}. */
export interface MonitorServiceOptions {
  readonly store: PredictionStore;
  readonly metrics?: MonitorMetrics;
  /**
   * Records committed per transaction. A stream is committed in chunks of this size, so a huge
   * stream never sits in memory whole; the response still comes only after the last commit.
   * Default 5000.
   */
  readonly chunkSize?: number;
}

/** `slipway.monitor.v1.MonitorService` over a prediction store. */
export function createMonitorService(options: MonitorServiceOptions): ServiceImplementation<Definition> {
  const { store, metrics } = options;
  const chunkSize = options.chunkSize ?? 5_000;

  return {
    async ingestPredictions(requests, ctx) {
      let pending: Prediction[] = [];
      let index = 0;
      let accepted = 0;
      let duplicates = 0;
      const commit = async (): Promise<void> => {
        const chunk = pending;
        pending = [];
        const outcome: InsertOutcome = await store.insert(chunk);
        accepted += outcome.accepted;
        duplicates += outcome.duplicates;
        metrics?.ingested(outcome);
      };
      for await (const request of requests) {
        const receivedAtMs = Date.now();
        for (const record of request.records) {
          const problems = recordProblems(record);
          if (problems.length > 0) throw invalidRecord(index, record, problems, accepted + duplicates);
          pending.push(fromProtoRecord(record, receivedAtMs));
          index++;
        }
        if (pending.length >= chunkSize) await commit();
      }
      if (pending.length > 0) await commit();
      if (index > 0) ctx.logger.debug({ records: index, accepted, duplicates }, 'predictions ingested');
      return { accepted: BigInt(accepted), duplicates: BigInt(duplicates) };
    },

    async listPredictions(request) {
      if (request.limit > MAX_LIST_LIMIT) {
        throw new InvalidArgumentError(
          `ListPredictions: limit ${request.limit} is above the maximum ${MAX_LIST_LIMIT}; ` +
            'narrow the filter (deployment, variant, request_id, shadow) or ask for fewer',
        );
      }
      const page = await store.list({
        deployment: request.deployment || undefined,
        variant: request.variant || undefined,
        requestId: request.requestId || undefined,
        shadow: request.shadow,
        limit: request.limit === 0 ? DEFAULT_LIST_LIMIT : request.limit,
      });
      return { records: page.records.map(toProtoRecord), total: BigInt(page.total) };
    },
  };
}

function invalidRecord(
  index: number,
  record: monitor.PredictionRecord,
  problems: readonly string[],
  committed: number,
): InvalidArgumentError {
  const which = record.requestId ? `record ${index} (request_id "${record.requestId}")` : `record ${index}`;
  const stored =
    committed === 0
      ? 'nothing of this stream was stored'
      : `the ${committed} records before it were already committed (resending them is safe: ` +
        'ingestion is idempotent by request_id and variant)';
  return new InvalidArgumentError(
    `IngestPredictions: ${which} of the stream: ${problems.join(', ')}; ${stored}`,
  );
}
