import type { monitor } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import { createLogger, type CallContext } from '@slipway/service-kit';
import { describe, expect, it } from 'vitest';
import type { InsertOutcome, Prediction, PredictionStore } from '../store/prediction-store.js';
import { predictionRecords } from '../testing/fixtures.js';
import { createMonitorService } from './monitor-service.js';

const ctx = { logger: createLogger('monitor', { level: 'silent' }) } as CallContext;

function recordingStore(): PredictionStore & { chunks: Prediction[][] } {
  const chunks: Prediction[][] = [];
  const keys = new Set<string>();
  return {
    chunks,
    async insert(records): Promise<InsertOutcome> {
      chunks.push([...records]);
      let accepted = 0;
      for (const r of records) {
        const key = `${r.requestId}\u0000${r.variant}`;
        if (!keys.has(key)) accepted++;
        keys.add(key);
      }
      return { accepted, duplicates: records.length - accepted };
    },
    list: () => Promise.reject(new Error('not used')),
    deleteBefore: () => Promise.reject(new Error('not used')),
  };
}

async function* stream(
  messages: monitor.PredictionRecord[][],
): AsyncIterable<monitor.IngestPredictionsRequest> {
  for (const records of messages) yield { records };
}

describe('IngestPredictions in chunks', () => {
  it('commits a large stream in chunks and answers with the totals of every chunk', async () => {
    const store = recordingStore();
    const service = createMonitorService({ store, chunkSize: 4 });
    const records = predictionRecords(10);
    const response = await service.ingestPredictions(
      stream([records.slice(0, 3), records.slice(3, 6), records.slice(6, 9), [records[9]!, records[0]!]]),
      ctx,
    );
    expect(response).toEqual({ accepted: 10n, duplicates: 1n });
    expect(store.chunks.map((c) => c.length)).toEqual([6, 5]);
  });

  it('names the committed records when a record after a committed chunk is invalid', async () => {
    const store = recordingStore();
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
    expect(store.chunks.flat()).toHaveLength(8);
  });
});
