import { join } from 'node:path';
import type { monitor } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import { createLogger, type CallContext } from '@slipway/service-kit';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../db/open-database.js';
import type { MonitorStore } from '../store/monitor-store.js';
import type { Prediction } from '../store/prediction-store.js';
import { createSqlitePredictionStore } from '../store/sqlite-prediction-store.js';
import { predictionRecords } from '../testing/fixtures.js';
import { createMonitorService } from './monitor-service.js';

const ctx = { logger: createLogger('monitor', { level: 'silent' }) } as CallContext;

/** A real store whose inserts are also recorded chunk by chunk. */
async function recordingStore(): Promise<{ store: MonitorStore; chunks: Prediction[][]; close(): void }> {
  const dir = await createTempDir('monitor-service-');
  const database = openDatabase({ file: join(dir.path, 'monitor.db') });
  const real = createSqlitePredictionStore(database);
  const chunks: Prediction[][] = [];
  const store: MonitorStore = {
    ...real,
    insert(records) {
      chunks.push([...records]);
      return real.insert(records);
    },
  };
  return { store, chunks, close: () => database.close() };
}

async function* stream(
  messages: monitor.PredictionRecord[][],
): AsyncIterable<monitor.IngestPredictionsRequest> {
  for (const records of messages) yield { records };
}

describe('IngestPredictions in chunks', () => {
  it('commits a large stream in chunks and answers with the totals of every chunk', async () => {
    const { store, chunks, close } = await recordingStore();
    try {
      const service = createMonitorService({ store, chunkSize: 4 });
      const records = predictionRecords(10);
      const response = await service.ingestPredictions(
        stream([records.slice(0, 3), records.slice(3, 6), records.slice(6, 9), [records[9]!, records[0]!]]),
        ctx,
      );
      expect(response).toEqual({ accepted: 10n, duplicates: 1n });
      expect(chunks.map((c) => c.length)).toEqual([6, 5]);
    } finally {
      close();
    }
  });

  it('names the committed records when a record after a committed chunk is invalid', async () => {
    const { store, chunks, close } = await recordingStore();
    try {
      const service = createMonitorService({ store, chunkSize: 4 });
      const records = predictionRecords(12);
      records[9] = { ...records[9]!, requestId: '' };
      const failure = service.ingestPredictions(
        stream([records.slice(0, 4), records.slice(4, 8), records.slice(8)]),
        ctx,
      );
      await expect(failure).rejects.toThrow(InvalidArgumentError);
      await expect(failure).rejects.toThrow(
        /record 9 of the stream: request_id is required; the 8 records before it were already committed/,
      );
      expect(chunks.flat()).toHaveLength(8);
      expect((await store.list({ limit: 100 })).total).toBe(8);
    } finally {
      close();
    }
  });
});
