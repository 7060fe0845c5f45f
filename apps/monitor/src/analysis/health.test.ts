// GetHealth over real gRPC with a fresh database per test.
import type { monitor } from '@slipway/contracts';
import { InvalidArgumentError, NotFoundError } from '@slipway/errors';
import { createSeededRandom } from '@slipway/onnx';
import { afterEach, describe, expect, it } from 'vitest';
import { predictionRecord, startMonitor, type RunningMonitor } from '../testing/fixtures.js';

let running: RunningMonitor | undefined;
afterEach(() => running?.close());

const HOUR = 3_600_000;

/** `count` records of one series, spread over the `spanMs` before `endMs`. */
function series(
  prefix: string,
  count: number,
  endMs: number,
  spanMs: number,
  overrides: Partial<monitor.PredictionRecord>,
  seed: number,
): monitor.PredictionRecord[] {
  const random = createSeededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const roll = random.next();
    return predictionRecord(i, {
      requestId: `${prefix}-${i}`,
      time: new Date(endMs - 1 - Math.floor(random.next() * spanMs)),
      latencyMs: Math.exp(1.5 + 0.6 * random.normal()),
      status: roll < 0.9 ? 'OK' : roll < 0.95 ? 'UNAVAILABLE' : 'DEADLINE_EXCEEDED',
      ...overrides,
    });
  });
}

/** The value of rank ⌊q·(n − 1)⌋, the one the sketch promises to be within 1 % of. */
function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

async function ingest(records: monitor.PredictionRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 1_000) {
    await running!.deployer.ingestPredictions([{ records: records.slice(i, i + 1_000) }]);
  }
}

describe('GetHealth', () => {
  it('reports each variant, version and shadow of the last hour: rate, errors by status, timeouts, latency', async () => {
    running = await startMonitor();
    const now = Date.now();
    const stable = series('s', 3_000, now, HOUR - 60_000, {}, 1);
    const candidate = series('c', 600, now, HOUR - 60_000, { variant: 'candidate', version: 4 }, 2);
    const shadow = series('x', 400, now, HOUR - 60_000, { variant: 'shadow', version: 5, shadow: true }, 3);
    // Two hours ago: outside the default window.
    const old = series('o', 200, now - HOUR - 60_000, HOUR - 120_000, {}, 4);
    await ingest([...stable, ...candidate, ...shadow, ...old]);

    const health = await running.reader.getHealth({ deployment: 'fraud', windowSeconds: 0 });
    expect(health.windowEnd!.getTime() - health.windowStart!.getTime()).toBe(HOUR);
    expect(health.variants.map((v) => [v.variant, v.version, v.shadow])).toEqual([
      ['candidate', 4, false],
      ['stable', 3, false],
      ['shadow', 5, true],
    ]);
    for (const [records, v] of [
      [stable, health.variants[1]!],
      [candidate, health.variants[0]!],
      [shadow, health.variants[2]!],
    ] as const) {
      const count = (status: string) => records.filter((r) => r.status === status).length;
      const errors = records.length - count('OK');
      expect(v.requests).toBe(BigInt(records.length));
      expect(v.errors).toBe(BigInt(errors));
      expect(v.errorRate).toBeCloseTo(errors / records.length, 12);
      expect(v.timeouts).toBe(BigInt(count('DEADLINE_EXCEEDED')));
      expect(v.byStatus).toEqual(
        Object.fromEntries(
          ['DEADLINE_EXCEEDED', 'OK', 'UNAVAILABLE']
            .map((s) => [s, BigInt(count(s))])
            .filter(([, n]) => n !== 0n),
        ),
      );
      expect(v.requestsPerSecond).toBeCloseTo(records.length / 3_600, 12);
      const latencies = records.map((r) => r.latencyMs);
      for (const [q, got] of [
        [0.5, v.p50Ms],
        [0.95, v.p95Ms],
        [0.99, v.p99Ms],
      ] as const) {
        const exact = exactQuantile(latencies, q);
        expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(0.01 + 1e-9);
      }
    }

    const threeHours = await running.reader.getHealth({ deployment: 'fraud', windowSeconds: 3 * 3_600 });
    expect(threeHours.variants.find((v) => v.variant === 'stable')!.requests).toBe(3_200n);
  });

  it('answers from the rollups after the records are past retention', async () => {
    running = await startMonitor({ SLIPWAY_MONITOR_RETENTION_DAYS: '1' });
    const twoDaysAgo = Date.now() - 48 * HOUR;
    const records = series('s', 500, twoDaysAgo, 6 * HOUR, {}, 5);
    await ingest(records);
    expect(await running.retention.sweep()).toBe(500);
    const listed = await running.reader.listPredictions({
      deployment: 'fraud',
      variant: '',
      requestId: '',
      limit: 0,
    });
    expect(listed.total).toBe(0n);

    const health = await running.reader.getHealth({ deployment: 'fraud', windowSeconds: 3 * 86_400 });
    expect(health.variants).toHaveLength(1);
    const [stable] = health.variants;
    expect(stable!.requests).toBe(500n);
    expect(stable!.errors).toBe(BigInt(records.filter((r) => r.status !== 'OK').length));
    const exact = exactQuantile(
      records.map((r) => r.latencyMs),
      0.99,
    );
    expect(Math.abs(stable!.p99Ms - exact) / exact).toBeLessThanOrEqual(0.01 + 1e-9);
  });

  it('answers no variants for a quiet deployment, NOT_FOUND for an unknown one', async () => {
    running = await startMonitor();
    await ingest(series('o', 10, Date.now() - 5 * HOUR, HOUR, {}, 6));
    expect((await running.reader.getHealth({ deployment: 'fraud', windowSeconds: 0 })).variants).toEqual([]);

    const unknown = running.reader.getHealth({ deployment: 'frud', windowSeconds: 0 });
    await expect(unknown).rejects.toThrow(NotFoundError);
    await expect(unknown).rejects.toThrow(
      'the monitor has no prediction records of deployment "frud" (deployments with records: fraud)',
    );
    const blank = running.reader.getHealth({ deployment: ' ', windowSeconds: 0 });
    await expect(blank).rejects.toThrow(InvalidArgumentError);
    await expect(blank).rejects.toThrow('GetHealth: deployment is required');
  });
});
