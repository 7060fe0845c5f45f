// An in-memory MonitorService for the sink's tests: stores records by (request id, variant) like
// the real monitor, and can be made slow or stopped and started again on the same address.
import { setTimeout as sleep } from 'node:timers/promises';
import { monitor } from '@slipway/contracts';
import { createLogger, createServiceServer, type ServiceServer } from '@slipway/service-kit';

/** The deployer token the fake accepts. */
export const TOKEN = 'sink-token';

/** A running fake monitor. */
export interface FakeMonitor {
  readonly address: string;
  /** Distinct records, by `requestId/variant`. */
  readonly stored: Map<string, monitor.PredictionRecord>;
  /** Request ids in the order their records were first stored. */
  readonly order: string[];
  /** Records received, duplicates included. */
  received: number;
  /** IngestPredictions calls that began. */
  started: number;
  /** IngestPredictions calls answered. */
  calls: number;
  /** How long each IngestPredictions call waits, after reading its stream, before storing. */
  delayMs: number;
  /** Stops serving (in-flight calls get a second to finish). Idempotent. */
  stop(): Promise<void>;
}

/** A handler for the methods the fake does not serve. */
const unimplemented = (method: string) => async (): Promise<never> => {
  throw new Error(`${method} is not implemented by the fake`);
};

/** Starts a fake monitor on `address` (default a free port on loopback). */
export async function startFakeMonitor(address = '127.0.0.1:0'): Promise<FakeMonitor> {
  const server: ServiceServer = createServiceServer({
    name: 'fake-monitor',
    address,
    logger: createLogger('fake-monitor', { level: 'silent' }),
    auth: { tokens: [{ token: TOKEN, actor: 'router', role: 'deployer' }] },
    shutdownTimeoutMs: 1_000,
  });
  const fake = {
    address: '',
    stored: new Map<string, monitor.PredictionRecord>(),
    order: [] as string[],
    received: 0,
    started: 0,
    calls: 0,
    delayMs: 0,
    stop: () => server.shutdown('test done'),
  };
  server.add(
    monitor.MonitorServiceService,
    {
      async ingestPredictions(requests) {
        fake.started++;
        const records: monitor.PredictionRecord[] = [];
        for await (const request of requests) records.push(...request.records);
        if (fake.delayMs > 0) await sleep(fake.delayMs);
        let accepted = 0;
        for (const record of records) {
          const key = `${record.requestId}/${record.variant}`;
          if (fake.stored.has(key)) continue;
          fake.stored.set(key, record);
          fake.order.push(record.requestId);
          accepted++;
        }
        fake.received += records.length;
        fake.calls++;
        return { accepted: BigInt(accepted), duplicates: BigInt(records.length - accepted) };
      },
      // The sink only ingests predictions; the rest of the service is not the fake's business.
      listPredictions: unimplemented('listPredictions'),
      ingestOutcomes: unimplemented('ingestOutcomes'),
      getHealth: unimplemented('getHealth'),
      getDrift: unimplemented('getDrift'),
      getPerformance: unimplemented('getPerformance'),
      getShadowReport: unimplemented('getShadowReport'),
      getExperimentReport: unimplemented('getExperimentReport'),
    },
    { ingestPredictions: 'deployer' },
  );
  fake.address = (await server.start()).address;
  return fake;
}

/** A complete record `req-<i>` of deployment `fraud`, variant `stable`. */
export function predictionRecord(
  i: number,
  overrides: Partial<monitor.PredictionRecord> = {},
): monitor.PredictionRecord {
  return {
    requestId: `req-${i}`,
    deployment: 'fraud',
    variant: 'stable',
    model: 'fraud-model',
    version: 2,
    features: Array.from(Float32Array.of(i, 0.25, -1.5)),
    outputs: [i / 7, 0.5],
    latencyMs: 1.5,
    status: 'OK',
    time: new Date(1_700_000_000_000 + i),
    experimentArm: '',
    unitKey: `u${i}`,
    source: 'predict',
    shadow: false,
    featureSetHash: '',
    entityKeys: { user_id: `u${i}` },
    error: '',
    experiment: '',
    ...overrides,
  };
}

/** Records `req-<from>` … `req-<from + count - 1>`. */
export function predictionRecords(count: number, from = 0): monitor.PredictionRecord[] {
  return Array.from({ length: count }, (_, k) => predictionRecord(from + k));
}
