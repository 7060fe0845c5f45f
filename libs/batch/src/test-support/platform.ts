// The part of the platform a batch run talks to, as real processes (after
// test/e2e/support/platform.ts): registry, feature service and optionally the monitor on free
// loopback ports, with the demo model trained from the feature service by `tools/train demo`
// and deployed as `fraud` (version 1, direct).
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTempDir, ensureBuilt, repoRoot, startApp, type RunningApp } from '@slipway/testing';

const run = promisify(execFile);

/** Bearer token every process accepts (admin). */
export const TOKEN = 'batch-token';
const TOKENS = `${TOKEN}=batch-test:admin`;

const entry = (app: string): string => path.join(repoRoot, app, 'dist/main.js');

/** Builds what {@link startBatchPlatform} runs (call from beforeAll). */
export async function buildBatchPlatform(): Promise<void> {
  for (const project of ['apps/registry', 'apps/features', 'apps/monitor', 'tools/train']) {
    await ensureBuilt(project);
  }
}

/** A started platform. */
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
  const dir = (await createTempDir('slipway-batch-')).path;
  const started: RunningApp[] = [];
  const stop = async (): Promise<void> => {
    for (const app of [...started].reverse()) if (app.running) await app.stop();
  };
  try {
    const registry = await startApp({
      name: 'registry',
      entry: entry('apps/registry'),
      addressEnv: 'SLIPWAY_REGISTRY_ADDR',
      env: {
        SLIPWAY_REGISTRY_ADDR: '127.0.0.1:0',
        SLIPWAY_REGISTRY_DATA_DIR: path.join(dir, 'registry'),
        SLIPWAY_REGISTRY_TOKENS: TOKENS,
      },
    });
    started.push(registry);
    const features = await startApp({
      name: 'features',
      entry: entry('apps/features'),
      addressEnv: 'SLIPWAY_FEATURES_ADDR',
      env: {
        SLIPWAY_FEATURES_ADDR: '127.0.0.1:0',
        SLIPWAY_FEATURES_DATA_DIR: path.join(dir, 'features'),
        SLIPWAY_FEATURES_TOKENS: TOKENS,
      },
    });
    started.push(features);
    let monitor: RunningApp | undefined;
    if (options.monitor) {
      monitor = await startApp({
        name: 'monitor',
        entry: entry('apps/monitor'),
        addressEnv: 'SLIPWAY_MONITOR_ADDR',
        env: {
          SLIPWAY_MONITOR_ADDR: '127.0.0.1:0',
          SLIPWAY_MONITOR_DATA_DIR: path.join(dir, 'monitor'),
          SLIPWAY_MONITOR_TOKENS: TOKENS,
          SLIPWAY_REGISTRY_ADDR: registry.address,
          SLIPWAY_MONITOR_TOKEN: TOKEN,
        },
      });
      started.push(monitor);
    }
    await run(
      process.execPath,
      [
        entry('tools/train'),
        'demo',
        '--rows',
        String(options.rows ?? 2000),
        '--registry',
        registry.address,
        '--features',
        features.address,
        '--model',
        'fraud',
        '--deploy',
        'fraud',
      ],
      { env: { PATH: process.env['PATH'] ?? '', SLIPWAY_TOKEN: TOKEN } },
    );
    return { dir, registry, features, monitor, stop };
  } catch (error) {
    await stop();
    throw error;
  }
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
