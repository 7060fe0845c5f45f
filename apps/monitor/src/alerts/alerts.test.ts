// The built-in alert rules over a real monitor store: fire once, stay firing, resolve once.
import type { monitor } from '@slipway/contracts';
import { createLogger } from '@slipway/service-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { predictionRecord, startMonitor, type RunningMonitor } from '../testing/fixtures.js';
import { createAlerts } from './alerts.js';

let running: RunningMonitor | undefined;
afterEach(() => running?.close());

const rules = { errorRate: 0.05, p99Ms: 100, drift: false, windowSeconds: 300, minRequests: 50 };

function records(
  variant: string,
  n: number,
  endMs: number,
  errorEvery: number,
  latencyMs: number,
): monitor.PredictionRecord[] {
  return Array.from({ length: n }, (_, i) =>
    predictionRecord(i, {
      requestId: `${variant}-${i}`,
      variant,
      version: variant === 'stable' ? 1 : 2,
      time: new Date(endMs - 1_000 - i * 100),
      latencyMs,
      status: errorEvery > 0 && i % errorEvery === 0 ? 'INTERNAL' : 'OK',
    }),
  );
}

describe('alerts', () => {
  it('fires for the variant that breaks a rule, once, and resolves when the window is clean', async () => {
    running = await startMonitor();
    const now = Date.now();
    await running.deployer.ingestPredictions([
      { records: [...records('stable', 200, now, 0, 3), ...records('candidate', 100, now, 4, 250)] },
    ]);
    const lines: string[] = [];
    const logger = createLogger('alerts-test', {
      level: 'info',
      destination: { write: (line: string) => lines.push(line) },
    });
    const alerts = createAlerts({ store: running.store, rules, logger });

    const firing = await alerts.evaluate(now);
    expect(firing.map((a) => `${a.variant}:${a.rule}`).sort()).toEqual([
      'candidate:error_rate',
      'candidate:p99',
    ]);
    const errorRate = firing.find((a) => a.rule === 'error_rate')!;
    expect(errorRate.value).toBeCloseTo(0.25, 2);
    expect(errorRate.summary).toMatch(/error rate 25\.0% over 300s is above 5\.0%/);
    expect(lines.filter((l) => l.includes('ALERT'))).toHaveLength(2);

    // Still breaking: no second notice.
    await alerts.evaluate(now + 1_000);
    expect(lines.filter((l) => l.includes('ALERT'))).toHaveLength(2);

    // Ten minutes later the window holds nothing: both resolve.
    expect(await alerts.evaluate(now + 600_000)).toEqual([]);
    expect(lines.filter((l) => l.includes('resolved'))).toHaveLength(2);
  });
});
