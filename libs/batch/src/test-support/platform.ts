// The part of the platform a batch run talks to, as real processes (libs/testing's platform):
// registry, feature service and optionally the monitor on free loopback ports, with the demo
// model trained from the feature service by `tools/train demo` and deployed as `fraud`.
import { writeFile } from 'node:fs/promises';
import { buildPlatform, PLATFORM_TOKEN, startPlatform, type RunningApp } from '@slipway/testing';

/** Bearer token every process accepts (admin). */
export const TOKEN = PLATFORM_TOKEN;

/** Builds what {@link startBatchPlatform} runs (call from beforeAll). */
export async function buildBatchPlatform(): Promise<void> {
  await buildPlatform(['apps/registry', 'apps/features', 'apps/monitor', 'tools/train']);
}

/** A started platform: no workers or routers, a batch run scores in-process. */
export interface BatchPlatform {
  readonly dir: string;
  readonly registry: RunningApp;
  readonly features: RunningApp;
  readonly monitor: RunningApp | undefined;
  /** Stops every process, monitor first. */
  stop(): Promise<void>;
}

/** Starts the processes and deploys the demo model as `fraud`, trained on `rows` rows (default 2000). */
export async function startBatchPlatform(
  options: { rows?: number; monitor?: boolean } = {},
): Promise<BatchPlatform> {
  const platform = await startPlatform({
    workers: 0,
    routers: 0,
    monitor: options.monitor ?? false,
    rows: options.rows,
  });
  return {
    dir: platform.dir,
    registry: platform.registry,
    features: platform.features,
    monitor: platform.monitor,
    stop: () => platform.stop(),
  };
}

/** One demo transaction as a batch input row (the request-time fields and the entity key). */
export interface TransactionRow {
  readonly transactionId: string;
  readonly userId: string;
  readonly amount: number;
  readonly hourOfDay: number;
  readonly merchantRisk: number;
  readonly distanceKm: number;
  readonly isForeign: number;
}

/** The request-time fields and entity key of the demo feature set, in CSV column order. */
export const TRANSACTION_COLUMNS = [
  'transactionId',
  'userId',
  'amount',
  'hourOfDay',
  'merchantRisk',
  'distanceKm',
  'isForeign',
] as const;

/** Deterministic transactions of the demo's 1,000 users (`u0` … `u999`). */
export function transactions(count: number, seed = 1): TransactionRow[] {
  let state = seed >>> 0;
  // mulberry32: small, seeded, good enough for test data.
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, (_, i) => ({
    transactionId: `tx-${i + 1}`,
    userId: `u${Math.floor(next() * 1000)}`,
    amount: Math.round(Math.exp(next() * 3 + 2) * 100) / 100,
    hourOfDay: Math.floor(next() * 24),
    merchantRisk: Math.round(next() ** 3 * 1e6) / 1e6,
    distanceKm: Math.round(Math.exp(next() * 4) * 1000) / 1000,
    isForeign: next() < 0.08 ? 1 : 0,
  }));
}

/** Writes rows as CSV (header first); `lines` may replace the text of chosen data lines. */
export async function writeCsv(
  file: string,
  rows: readonly TransactionRow[],
  lines: Readonly<Record<number, string>> = {},
): Promise<void> {
  const text = rows.map((r, i) => lines[i + 1] ?? TRANSACTION_COLUMNS.map((c) => r[c]).join(','));
  await writeFile(file, `${TRANSACTION_COLUMNS.join(',')}\n${text.join('\n')}\n`);
}

/** Writes rows as JSON Lines; `lines` may replace the text of chosen lines. */
export async function writeJsonl(
  file: string,
  rows: readonly TransactionRow[],
  lines: Readonly<Record<number, string>> = {},
): Promise<void> {
  const text = rows.map((r, i) => lines[i + 1] ?? JSON.stringify(r));
  await writeFile(file, `${text.join('\n')}\n`);
}
