import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FailedPreconditionError } from '@slipway/errors';
import { canonicalJson } from '@slipway/features';
import {
  createHistoricalDataSource,
  type HistoricalExample,
  type TrainingDataSource,
} from './data-source.js';
import { generateTransactions, type DemoDataOptions, type Transaction } from './demo-data.js';
import type { FeatureServiceClient, FeatureViewDefinition, FeatureWrite } from './feature-client.js';

/**
 * The demo's feature views, keyed by `userId` (the demo feature set's entity key). TTLs match the
 * features' own `ttlSeconds` in `demo-feature-set.ts`.
 */
export const DEMO_FEATURE_VIEWS: readonly FeatureViewDefinition[] = [
  {
    name: 'demo_user_profile',
    entityKey: 'userId',
    fields: [
      { name: 'accountAgeDays', type: 'number' },
      { name: 'avgAmount30d', type: 'number' },
    ],
    ttlSeconds: 86_400,
  },
  {
    name: 'demo_user_activity',
    entityKey: 'userId',
    fields: [{ name: 'txCount24h', type: 'number' }],
    ttlSeconds: 3_600,
  },
];

/** The transaction's own fields: logged with the request, not stored per user. */
const REQUEST_FIELDS = [
  'transactionId',
  'merchantId',
  'amount',
  'hourOfDay',
  'merchantRisk',
  'distanceKm',
  'isForeign',
] as const satisfies ReadonlyArray<keyof Transaction>;

/**
 * The user feature events of the transactions: per transaction and view, the user's state at the
 * transaction's event time. Identical events (same view, user, millisecond) are written once.
 *
 * @throws FailedPreconditionError when one user has two different states at the same millisecond.
 */
export function demoFeatureEvents(transactions: readonly Transaction[]): FeatureWrite[] {
  const seen = new Map<string, string>();
  const events: FeatureWrite[] = [];
  for (const t of transactions) {
    for (const view of DEMO_FEATURE_VIEWS) {
      const values = Object.fromEntries(view.fields.map((f) => [f.name, t[f.name as keyof Transaction]]));
      const key = `${view.name}\u0000${t.userId}\u0000${t.eventTime.getTime()}`;
      const json = canonicalJson(values);
      const before = seen.get(key);
      if (before === json) continue;
      if (before !== undefined) {
        throw new FailedPreconditionError(
          `user ${t.userId} has two ${view.name} states at ${t.eventTime.toISOString()}; use another --seed`,
        );
      }
      seen.set(key, json);
      events.push({ view: view.name, entityId: t.userId, eventTime: t.eventTime, values });
    }
  }
  return events;
}

/** One line of `labels.jsonl`: a transaction's label and when it became known. */
export interface DemoLabel {
  readonly transactionId: string;
  readonly userId: string;
  readonly eventTime: string;
  readonly label: number;
  readonly labelTime: string;
}

/** The labels of the transactions, each arriving `labelDelayMs` after its event. */
export function demoLabels(transactions: readonly Transaction[], labelDelayMs: number): DemoLabel[] {
  return transactions.map((t) => ({
    transactionId: t.transactionId,
    userId: t.userId,
    eventTime: t.eventTime.toISOString(),
    label: t.label,
    labelTime: new Date(t.eventTime.getTime() + labelDelayMs).toISOString(),
  }));
}

/** Training examples: look the user up as of the transaction's time, with its request values. */
export function demoExamples(transactions: readonly Transaction[]): HistoricalExample[] {
  return transactions.map((t) => ({
    entityKeys: { userId: t.userId },
    asOfTime: t.eventTime,
    requestValues: Object.fromEntries(REQUEST_FIELDS.map((f) => [f, t[f]])),
    label: t.label,
  }));
}

/** Parses `--label-delay`: a number with unit `ms`, `s`, `m`, `h` or `d` (e.g. `7d`). */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (match === null) return undefined;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms'];
  return Number(match[1]) * unit;
}

/** Options of {@link publishDemoFeatures}. */
export interface DemoFeatureOptions extends DemoDataOptions {
  readonly client: FeatureServiceClient;
  /** Where `labels.jsonl` goes; none: labels are kept in memory only. */
  readonly outDir?: string;
  readonly labelDelayMs: number;
}

/** What {@link publishDemoFeatures} did, and the training source over the feature service. */
export interface PublishedDemo {
  readonly source: TrainingDataSource;
  readonly events: number;
  readonly labels: readonly DemoLabel[];
  readonly labelsFile?: string;
}

/**
 * The demo through the feature service: generates the transactions, registers the demo views,
 * writes the user events with their event times, keeps the labels (in `labels.jsonl` under
 * `outDir`), and returns a source that builds each training row by historical retrieval as of
 * its transaction's time. The rows equal `createDemoDataSource`'s for the same options.
 */
export async function publishDemoFeatures(options: DemoFeatureOptions): Promise<PublishedDemo> {
  const { client, outDir, labelDelayMs, ...dataOptions } = options;
  const transactions = generateTransactions(dataOptions);
  const events = demoFeatureEvents(transactions);
  await client.registerViews(DEMO_FEATURE_VIEWS);
  await client.writeFeatures(events);
  const labels = demoLabels(transactions, labelDelayMs);
  let labelsFile: string | undefined;
  if (outDir !== undefined) {
    await mkdir(outDir, { recursive: true });
    labelsFile = path.join(outDir, 'labels.jsonl');
    await writeFile(labelsFile, labels.map((l) => `${JSON.stringify(l)}\n`).join(''), 'utf8');
  }
  const views = DEMO_FEATURE_VIEWS.map((v) => v.name);
  const source = createHistoricalDataSource({
    reader: client.reader,
    views,
    examples: demoExamples(transactions),
    timeField: 'eventTime',
    location:
      `features:views=${views.join(',')};generated:demo-transactions?seed=${options.seed}&rows=${options.rows}` +
      (options.amountShift ? `&amountShift=${options.amountShift}` : ''),
  });
  return { source, events: events.length, labels, ...(labelsFile === undefined ? {} : { labelsFile }) };
}
