import type { monitor } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import type { CallContext, ServiceImplementation, ServicePolicy } from '@slipway/service-kit';
import { getDrift } from '../analysis/drift.js';
import { getExperimentReport } from '../analysis/experiment.js';
import { getHealth } from '../analysis/health.js';
import { getPerformance } from '../analysis/performance.js';
import { getShadowReport } from '../analysis/shadow.js';
import type { MonitorMetrics } from '../monitor-metrics.js';
import type { MonitorStore, OutcomeRecord } from '../store/monitor-store.js';
import type { InsertOutcome, Prediction } from '../store/prediction-store.js';
import { fromProtoOutcome, outcomeProblems } from './outcomes.js';
import { fromProtoRecord, recordProblems, toProtoRecord } from './records.js';
import type { RegistryLookup } from './registry-lookup.js';

type Definition = typeof monitor.MonitorServiceService;

/** Reads are open; ingesting needs the deployer role. */
export const monitorPolicy: ServicePolicy<Definition> = {
  ingestPredictions: 'deployer',
  ingestOutcomes: 'deployer',
};

/** ListPredictions' page size when the request names none. */
export const DEFAULT_LIST_LIMIT = 100;
/** The largest page ListPredictions returns. */
export const MAX_LIST_LIMIT = 10_000;

/** Options of {@link createMonitorService}. */
export interface MonitorServiceOptions {
  readonly store: MonitorStore;
  readonly metrics?: MonitorMetrics;
  /** Deployments and reference profiles; undefined: no registry (GetDrift is refused). */
  readonly registry?: RegistryLookup;
  /**
   * Records (or outcomes) committed per transaction. A stream is committed in chunks of this
   * size, so a huge stream never sits in memory whole; the response still comes only after the
   * last commit. Default 5000.
   */
  readonly chunkSize?: number;
  /** The clock windows end at (tests). Default `Date.now`. */
  readonly now?: () => number;
}

/** How one client-streaming ingestion reads its items and names them in errors. */
interface Ingestion<Message, Item, Stored> {
  readonly rpc: string;
  /** `record`, `outcome`. */
  readonly noun: string;
  /** What makes a resend harmless, for the error message. */
  readonly idempotentBy: string;
  items(message: Message): readonly Item[];
  problems(item: Item): string[];
  requestId(item: Item): string;
  convert(item: Item, receivedAtMs: number): Stored;
  store(chunk: Stored[]): Promise<InsertOutcome>;
}

/**
 * Runs a client-streaming ingestion: validates every item, commits in chunks of `chunkSize` and
 * answers with the totals once the last chunk is committed.
 */
async function ingest<Message, Item, Stored>(
  messages: AsyncIterable<Message>,
  ctx: CallContext,
  chunkSize: number,
  spec: Ingestion<Message, Item, Stored>,
): Promise<{ accepted: bigint; duplicates: bigint }> {
  let pending: Stored[] = [];
  let index = 0;
  let accepted = 0;
  let duplicates = 0;
  const commit = async (): Promise<void> => {
    const chunk = pending;
    pending = [];
    const outcome = await spec.store(chunk);
    accepted += outcome.accepted;
    duplicates += outcome.duplicates;
  };
  for await (const message of messages) {
    const receivedAtMs = Date.now();
    for (const item of spec.items(message)) {
      const problems = spec.problems(item);
      if (problems.length > 0) {
        const requestId = spec.requestId(item);
        const which = requestId
          ? `${spec.noun} ${index} (request_id "${requestId}")`
          : `${spec.noun} ${index}`;
        const committed = accepted + duplicates;
        const stored =
          committed === 0
            ? 'nothing of this stream was stored'
            : `the ${committed} ${spec.noun}s before it were already committed (resending them is safe: ` +
              `ingestion is idempotent by ${spec.idempotentBy})`;
        throw new InvalidArgumentError(
          `${spec.rpc}: ${which} of the stream: ${problems.join(', ')}; ${stored}`,
        );
      }
      pending.push(spec.convert(item, receivedAtMs));
      index++;
    }
    if (pending.length >= chunkSize) await commit();
  }
  if (pending.length > 0) await commit();
  if (index > 0)
    ctx.logger.debug({ [`${spec.noun}s`]: index, accepted, duplicates }, `${spec.noun}s ingested`);
  return { accepted: BigInt(accepted), duplicates: BigInt(duplicates) };
}

/** `slipway.monitor.v1.MonitorService` over a monitor store (and the registry, when configured). */
export function createMonitorService(options: MonitorServiceOptions): ServiceImplementation<Definition> {
  const { store, metrics, registry: lookup } = options;
  const chunkSize = options.chunkSize ?? 5_000;
  const now = options.now ?? Date.now;

  return {
    ingestPredictions(requests, ctx) {
      return ingest<monitor.IngestPredictionsRequest, monitor.PredictionRecord, Prediction>(
        requests,
        ctx,
        chunkSize,
        {
          rpc: 'IngestPredictions',
          noun: 'record',
          idempotentBy: 'request_id and variant',
          items: (m) => m.records,
          problems: recordProblems,
          requestId: (r) => r.requestId,
          convert: fromProtoRecord,
          store: async (chunk) => {
            const outcome = await store.insert(chunk);
            metrics?.ingested(outcome);
            return outcome;
          },
        },
      );
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

    ingestOutcomes(requests, ctx) {
      return ingest<monitor.IngestOutcomesRequest, monitor.Outcome, OutcomeRecord>(requests, ctx, chunkSize, {
        rpc: 'IngestOutcomes',
        noun: 'outcome',
        idempotentBy: 'outcome_id',
        items: (m) => m.outcomes,
        problems: outcomeProblems,
        requestId: (o) => o.requestId,
        convert: fromProtoOutcome,
        store: async (chunk) => {
          const outcome = await store.insertOutcomes(chunk);
          metrics?.outcomesIngested(outcome);
          return outcome;
        },
      });
    },

    getHealth: (request) => getHealth(store, request, now()),

    getDrift: (request, ctx) => getDrift({ store, lookup, nowMs: now(), parent: ctx }, request),

    getPerformance: (request, ctx) => getPerformance({ store, lookup, nowMs: now(), parent: ctx }, request),

    getShadowReport: (request, ctx) => getShadowReport({ store, lookup, nowMs: now(), parent: ctx }, request),

    getExperimentReport: (request) => getExperimentReport(store, request),
  };
}
