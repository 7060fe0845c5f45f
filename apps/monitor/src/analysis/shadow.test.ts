// GetShadowReport over real gRPC with a fresh database per test.
import type { monitor } from '@slipway/contracts';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@slipway/errors';
import { createSeededRandom } from '@slipway/onnx';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { predictionRecord, startMonitor, type RunningMonitor } from '../testing/fixtures.js';

let running: RunningMonitor;
beforeEach(async () => {
  running = await startMonitor();
});
afterEach(() => running.close());

const MINUTE = 60_000;

describe('GetShadowReport', () => {
  it('pairs shadow answers with their primary and compares them at the threshold', async () => {
    const random = createSeededRandom(9);
    const now = Date.now();
    const records: monitor.PredictionRecord[] = [];
    const pairs: { id: string; primary: number; shadow: number }[] = [];
    for (let i = 0; i < 1_200; i++) {
      const time = new Date(now - 50 * MINUTE + i * 1_000);
      const primary = random.next();
      const shadow = Math.min(1, Math.max(0, primary + 0.1 * random.normal()));
      const request = { requestId: `r${i}`, time };
      records.push(predictionRecord(i, { ...request, outputs: [primary], latencyMs: 2 + (i % 10) }));
      if (i % 2 === 0) {
        records.push(
          predictionRecord(i, {
            ...request,
            variant: 'shadow',
            version: 4,
            shadow: true,
            outputs: [shadow],
            latencyMs: 20 + (i % 10),
          }),
        );
        pairs.push({ id: `r${i}`, primary, shadow });
      }
    }
    // A shadow answer that failed, and one whose primary is not stored: no pair.
    records.push(
      predictionRecord(5_000, { requestId: 'r1', variant: 'shadow', shadow: true, status: 'INTERNAL' }),
    );
    records.push(
      predictionRecord(5_001, {
        requestId: 'lonely',
        variant: 'shadow',
        shadow: true,
        time: new Date(now - MINUTE),
      }),
    );
    await running.deployer.ingestPredictions([{ records }]);

    const report = await running.reader.getShadowReport({
      deployment: 'fraud',
      windowSeconds: 0,
      examples: 3,
    });
    expect(report).toMatchObject({
      deployment: 'fraud',
      primaryVariant: 'stable',
      shadowVariant: 'shadow',
      pairs: BigInt(pairs.length),
      threshold: 0.5,
      primaryP50Ms: expect.closeTo(6, 0),
      shadowP50Ms: expect.closeTo(24, 0),
    });
    const agree = pairs.filter((p) => p.primary >= 0.5 === p.shadow >= 0.5).length;
    expect(report.agreement).toBeCloseTo(agree / pairs.length, 12);
    const diffs = pairs.map((p) => Math.abs(p.primary - p.shadow));
    expect(report.meanAbsDiff).toBeCloseTo(diffs.reduce((a, b) => a + b) / diffs.length, 12);
    expect(report.maxAbsDiff).toBe(Math.max(...diffs));
    const largest = [...pairs]
      .sort((a, b) => Math.abs(b.primary - b.shadow) - Math.abs(a.primary - a.shadow))
      .slice(0, 3)
      .map((p) => ({ requestId: p.id, primaryScore: p.primary, shadowScore: p.shadow }));
    expect(report.examples).toEqual(largest);
    expect(report.shadowP99Ms).toBeGreaterThan(report.primaryP99Ms);

    // Five examples by default.
    expect(
      (await running.reader.getShadowReport({ deployment: 'fraud', windowSeconds: 0, examples: 0 })).examples,
    ).toHaveLength(5);
    // A 40-minute window holds the newest pairs only (the requests span 50 to 30 minutes ago).
    const recent = await running.reader.getShadowReport({
      deployment: 'fraud',
      windowSeconds: 2_400,
      examples: 0,
    });
    // The server's clock has moved on a little since `now`: a pair or two may have left the window.
    const cutoff = now - 40 * MINUTE;
    const inWindow = pairs.filter((p) => now - 50 * MINUTE + Number(p.id.slice(1)) * 1_000 >= cutoff).length;
    expect(Number(recent.pairs)).toBeLessThanOrEqual(inWindow);
    expect(Number(recent.pairs)).toBeGreaterThanOrEqual(inWindow - 5);
    expect(inWindow).toBeGreaterThan(250);
  });

  it('says when there is nothing to compare, and refuses bad requests', async () => {
    await running.deployer.ingestPredictions([
      { records: [predictionRecord(1, { time: new Date(Date.now() - MINUTE) })] },
    ]);
    const none = running.reader.getShadowReport({ deployment: 'fraud', windowSeconds: 0, examples: 0 });
    await expect(none).rejects.toThrow(FailedPreconditionError);
    await expect(none).rejects.toThrow(
      'deployment "fraud" has no shadow predictions in the last 1h; start a shadow with `slipway shadow start fraud --version <n>`',
    );
    await expect(
      running.reader.getShadowReport({ deployment: 'churn', windowSeconds: 0, examples: 0 }),
    ).rejects.toThrow(NotFoundError);
    const many = running.reader.getShadowReport({ deployment: 'fraud', windowSeconds: 0, examples: 5_000 });
    await expect(many).rejects.toThrow(InvalidArgumentError);
    await expect(many).rejects.toThrow('examples 5000 is above the maximum 1000');
  });
});
