// Ingestion and reads over real gRPC with a fresh database per test.
import type { monitor } from '@slipway/contracts';
import { InvalidArgumentError, PermissionDeniedError, UnauthenticatedError } from '@slipway/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  f32,
  predictionRecord,
  predictionRecords,
  startMonitor,
  type RunningMonitor,
} from './testing/fixtures.js';

let running: RunningMonitor;
beforeEach(async () => {
  running = await startMonitor();
});
afterEach(() => running.close());

const ingest = (records: monitor.PredictionRecord[], perMessage = records.length) => {
  const messages: monitor.IngestPredictionsRequest[] = [];
  for (let i = 0; i < records.length; i += perMessage) {
    messages.push({ records: records.slice(i, i + perMessage) });
  }
  return running.deployer.ingestPredictions(messages);
};

describe('IngestPredictions and ListPredictions', () => {
  it('stores every record of a stream and reads it back exactly, newest first', async () => {
    const records = predictionRecords(25).map((r, i) => ({
      ...r,
      features: f32([i / 3, -1 / 7, 3.4028234663852886e38, 1.401298464324817e-45]),
      outputs: [i / 3, -Number.MIN_VALUE, Number.MAX_VALUE],
      entityKeys: { user_id: `u${i}`, merchant: `m${i % 4}` },
    }));
    expect(await ingest(records, 10)).toEqual({ accepted: 25n, duplicates: 0n });

    const { records: listed, total } = await running.anonymous.listPredictions({
      deployment: 'fraud',
      variant: '',
      requestId: '',
      limit: 0,
    });
    expect(total).toBe(25n);
    expect(listed).toEqual([...records].reverse());
  });

  it('is idempotent by (request_id, variant): a replay counts duplicates and changes nothing', async () => {
    const records = predictionRecords(10);
    expect(await ingest(records)).toEqual({ accepted: 10n, duplicates: 0n });
    const replay = [
      ...predictionRecords(10).map((r) => ({ ...r, latencyMs: 99 })),
      ...predictionRecords(5, 10),
    ];
    expect(await ingest(replay, 4)).toEqual({ accepted: 5n, duplicates: 10n });

    const listed = await running.reader.listPredictions({
      deployment: '',
      variant: '',
      requestId: 'req-3',
      limit: 0,
    });
    expect(listed.records).toEqual([records[3]]);
  });

  it('stores a primary and its shadow under one request id, and filters by shadow and variant', async () => {
    const primary = predictionRecord(1);
    const shadow = predictionRecord(1, { variant: 'candidate', shadow: true, version: 4, outputs: [0.9] });
    expect(await ingest([primary, shadow])).toEqual({ accepted: 2n, duplicates: 0n });
    await ingest([predictionRecord(2)]);

    const both = await running.anonymous.listPredictions({
      deployment: '',
      variant: '',
      requestId: 'req-1',
      limit: 0,
    });
    expect(both.records).toEqual([shadow, primary]);
    const base = { deployment: 'fraud', variant: '', requestId: '', limit: 0 };
    const onlyShadow = await running.anonymous.listPredictions({ ...base, shadow: true });
    expect(onlyShadow).toEqual({ records: [shadow], total: 1n });
    const onlyPrimary = await running.anonymous.listPredictions({ ...base, shadow: false });
    expect(onlyPrimary.records.map((r) => r.requestId)).toEqual(['req-2', 'req-1']);
    const byVariant = await running.anonymous.listPredictions({ ...base, variant: 'candidate' });
    expect(byVariant.records).toEqual([shadow]);
    const otherDeployment = await running.anonymous.listPredictions({ ...base, deployment: 'churn' });
    expect(otherDeployment).toEqual({ records: [], total: 0n });
  });

  it('refuses a stream with an invalid record with INVALID_ARGUMENT naming it, and stores nothing', async () => {
    const records = predictionRecords(6);
    records[4] = { ...records[4]!, variant: '', deployment: ' ' };
    const failure = ingest(records, 2);
    await expect(failure).rejects.toThrow(InvalidArgumentError);
    await expect(failure).rejects.toThrow(
      /record 4 \(request_id "req-4"\).*deployment is required, variant is required; nothing of this stream was stored/,
    );
    const listed = await running.anonymous.listPredictions({
      deployment: '',
      variant: '',
      requestId: '',
      limit: 0,
    });
    expect(listed.total).toBe(0n);
  });

  it('refuses anonymous ingestion with UNAUTHENTICATED and a reader with PERMISSION_DENIED', async () => {
    await expect(running.anonymous.ingestPredictions([{ records: [predictionRecord(1)] }])).rejects.toThrow(
      UnauthenticatedError,
    );
    await expect(running.reader.ingestPredictions([{ records: [predictionRecord(1)] }])).rejects.toThrow(
      PermissionDeniedError,
    );
    const listed = await running.anonymous.listPredictions({
      deployment: '',
      variant: '',
      requestId: '',
      limit: 0,
    });
    expect(listed.total).toBe(0n);
  });

  it('answers an empty stream with zero counts', async () => {
    expect(await running.deployer.ingestPredictions([])).toEqual({ accepted: 0n, duplicates: 0n });
  });

  it('returns 100 records by default, at most 10,000, and refuses a larger limit', async () => {
    await ingest(predictionRecords(10_050), 1_000);
    const base = { deployment: 'fraud', variant: '', requestId: '' };
    const byDefault = await running.anonymous.listPredictions({ ...base, limit: 0 });
    expect(byDefault.records).toHaveLength(100);
    expect(byDefault.total).toBe(10_050n);
    expect(byDefault.records[0]!.requestId).toBe('req-10049');
    const three = await running.anonymous.listPredictions({ ...base, limit: 3 });
    expect(three.records.map((r) => r.requestId)).toEqual(['req-10049', 'req-10048', 'req-10047']);
    const most = await running.anonymous.listPredictions({ ...base, limit: 10_000 });
    expect(most.records).toHaveLength(10_000);
    const failure = running.anonymous.listPredictions({ ...base, limit: 10_001 });
    await expect(failure).rejects.toThrow(InvalidArgumentError);
    await expect(failure).rejects.toThrow(/limit 10001 is above the maximum 10000/);
  });

  it('deletes records past the retention (7 days by default) when retention sweeps', async () => {
    const old = predictionRecord(1, { time: new Date(Date.now() - 8 * 86_400_000) });
    await ingest([old, predictionRecord(2)]);
    expect(await running.retention.sweep()).toBe(1);
    const listed = await running.anonymous.listPredictions({
      deployment: '',
      variant: '',
      requestId: '',
      limit: 0,
    });
    expect(listed.records.map((r) => r.requestId)).toEqual(['req-2']);
  });
});
