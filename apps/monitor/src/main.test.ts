// The built monitor as a process, started as in production: acknowledged records survive SIGKILL.
import path from 'node:path';
import { monitor } from '@slipway/contracts';
import { createClient } from '@slipway/service-kit';
import { createTempDir, ensureBuilt, repoRoot, startApp, useAppHarness } from '@slipway/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { predictionRecord, predictionRecords } from './testing/fixtures.js';

useAppHarness();

beforeAll(async () => {
  await ensureBuilt('apps/monitor');
});

describe('apps/monitor/dist/main.js', () => {
  it('counts ingestions on /metrics and keeps acknowledged records through SIGKILL and a restart', async () => {
    const dir = await createTempDir('monitor-app-');
    const app = await startApp({
      name: 'monitor',
      entry: path.join(repoRoot, 'apps/monitor/dist/main.js'),
      env: {
        SLIPWAY_MONITOR_ADDR: '127.0.0.1:0',
        SLIPWAY_MONITOR_DATA_DIR: dir.path,
        SLIPWAY_MONITOR_TOKENS: 'dep=router:deployer',
        SLIPWAY_MONITOR_METRICS_ADDR: '127.0.0.1:0',
      },
      addressEnv: 'SLIPWAY_MONITOR_ADDR',
    });
    const records = predictionRecords(3_000);
    let client = createClient(monitor.MonitorServiceService, app.address, { token: 'dep' });
    try {
      for (let i = 0; i < records.length; i += 500) {
        const acknowledged = await client.ingestPredictions([{ records: records.slice(i, i + 500) }]);
        expect(acknowledged).toEqual({ accepted: 500n, duplicates: 0n });
      }
      await client.ingestPredictions([{ records: records.slice(0, 1) }]);
    } finally {
      client.close();
    }
    const metricsLine = await app.waitForLog((line) => line.json?.['msg'] === 'metrics endpoint');
    const metrics = await (await fetch(`http://${String(metricsLine.json!['address'])}/metrics`)).text();
    expect(metrics).toMatch(/slipway_monitor_records_ingested_total(\{[^}]*\})? 3000\b/);
    expect(metrics).toMatch(/slipway_monitor_records_duplicate_total(\{[^}]*\})? 1\b/);
    // Every service reports its own CPU and memory beside its request metrics.
    expect(metrics).toMatch(/process_cpu_time(_seconds)?(_total)?\{[^}]*cpu_mode="user"[^}]*\} \d/);
    expect(metrics).toMatch(/process_memory_usage(_bytes)?\{[^}]*memory_type="rss"[^}]*\} \d{6,}/);
    expect(await app.kill()).toMatchObject({ signal: 'SIGKILL' });

    await app.restart();
    client = createClient(monitor.MonitorServiceService, app.address, { token: 'dep' });
    try {
      const listed = await client.listPredictions({
        deployment: 'fraud',
        variant: '',
        requestId: '',
        limit: 10_000,
      });
      expect(listed.total).toBe(3_000n);
      expect(new Set(listed.records.map((r) => r.requestId))).toEqual(
        new Set(records.map((r) => r.requestId)),
      );
      expect(listed.records.find((r) => r.requestId === 'req-1234')).toEqual(records[1234]);
      // A replay after the restart is recognised: nothing is stored twice.
      expect(await client.ingestPredictions([{ records: records.slice(0, 10) }])).toEqual({
        accepted: 0n,
        duplicates: 10n,
      });
    } finally {
      client.close();
    }
    const stopped = await app.stop();
    expect(stopped).toMatchObject({ code: 0, timedOut: false });
    expect(app.logs().some((line) => line.includes('shutdown complete'))).toBe(true);
  });

  it('exposes requests and errors per variant and recent latency quantiles on /metrics', async () => {
    const dir = await createTempDir('monitor-app-');
    const app = await startApp({
      name: 'monitor',
      entry: path.join(repoRoot, 'apps/monitor/dist/main.js'),
      env: {
        SLIPWAY_MONITOR_ADDR: '127.0.0.1:0',
        SLIPWAY_MONITOR_DATA_DIR: dir.path,
        SLIPWAY_MONITOR_TOKENS: 'dep=router:deployer',
        SLIPWAY_MONITOR_METRICS_ADDR: '127.0.0.1:0',
      },
    });
    const now = Date.now();
    const records = Array.from({ length: 100 }, (_, i) =>
      predictionRecord(i, {
        time: new Date(now - 1_000 - i),
        latencyMs: i < 90 ? 5 : 50,
        status: i % 10 === 0 ? 'UNAVAILABLE' : 'OK',
        variant: i < 80 ? 'stable' : 'candidate',
      }),
    );
    const client = createClient(monitor.MonitorServiceService, app.address, { token: 'dep' });
    try {
      await client.ingestPredictions([{ records }]);
    } finally {
      client.close();
    }
    const metricsLine = await app.waitForLog((line) => line.json?.['msg'] === 'metrics endpoint');
    const metrics = await (await fetch(`http://${String(metricsLine.json!['address'])}/metrics`)).text();
    const sample = (name: string, labels: Record<string, string>): number | undefined => {
      const line = metrics
        .split('\n')
        .find(
          (l) =>
            l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
        );
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const stable = { deployment: 'fraud', variant: 'stable' };
    expect(sample('slipway_monitor_predictions_total', { ...stable, status: 'OK' })).toBe(72);
    expect(sample('slipway_monitor_predictions_total', { ...stable, status: 'UNAVAILABLE' })).toBe(8);
    expect(sample('slipway_monitor_prediction_errors_total', { ...stable, status: 'UNAVAILABLE' })).toBe(8);
    expect(sample('slipway_monitor_prediction_errors_total', { ...stable, status: 'OK' })).toBeUndefined();
    const latency = (variant: string, quantile: string) =>
      sample('slipway_monitor_recent_latency', { deployment: 'fraud', variant, quantile });
    expect(latency('stable', '0.5')).toBeCloseTo(5, 0);
    // Candidate: 10 requests at 5 ms, 10 at 50 ms.
    expect(latency('candidate', '0.5')).toBeCloseTo(5, 0);
    expect(latency('candidate', '0.99')).toBeCloseTo(50, 0);
    expect(await app.stop()).toMatchObject({ code: 0, timedOut: false });
  });
});
