// Test fixtures: a running monitor on loopback with a fresh database, and prediction records.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitor } from '@slipway/contracts';
import { createClient, createLogger, parseConfig, type ServiceClient } from '@slipway/service-kit';
import { monitorConfigSchema } from '../config.js';
import { createMonitorServer, type MonitorServer } from '../monitor-server.js';

/** Deployer `router`, reader `rita`. */
export const TOKENS = 'dep-token=router:deployer,read-token=rita:reader';

type Client = ServiceClient<typeof monitor.MonitorServiceService>;

/** A monitor started in-process, with clients for every role. */
export interface RunningMonitor extends MonitorServer {
  readonly address: string;
  readonly dataDir: string;
  /** Deployer token. */
  readonly deployer: Client;
  readonly reader: Client;
  readonly anonymous: Client;
  /** Closes the clients, shuts the server down and removes its data. */
  close(): Promise<void>;
}

/**
 * Starts the monitor on 127.0.0.1:0 over a fresh data directory; `env` adds configuration (e.g.
 * `SLIPWAY_REGISTRY_ADDR`).
 */
export async function startMonitor(env: Readonly<Record<string, string>> = {}): Promise<RunningMonitor> {
  const dir = await mkdtemp(path.join(tmpdir(), 'monitor-grpc-'));
  const config = parseConfig(monitorConfigSchema, {
    SLIPWAY_MONITOR_ADDR: '127.0.0.1:0',
    SLIPWAY_MONITOR_DATA_DIR: dir,
    SLIPWAY_MONITOR_TOKENS: TOKENS,
    ...env,
  });
  const built = createMonitorServer(config, createLogger('monitor', { level: 'warn' }));
  const { address } = await built.server.start();
  const clients = {
    deployer: createClient(monitor.MonitorServiceService, address, { token: 'dep-token' }),
    reader: createClient(monitor.MonitorServiceService, address, { token: 'read-token' }),
    anonymous: createClient(monitor.MonitorServiceService, address),
  };
  return {
    ...built,
    ...clients,
    address,
    dataDir: dir,
    async close() {
      for (const client of Object.values(clients)) client.close();
      await built.server.shutdown('test done');
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** An hour ago, in whole seconds: fixture records must be inside the monitor's retention. */
const BASE_TIME_MS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

/** A complete record: deployment `fraud`, variant `stable`, time {@link BASE_TIME_MS} + `i` ms. */
export function predictionRecord(
  i: number,
  overrides: Partial<monitor.PredictionRecord> = {},
): monitor.PredictionRecord {
  return {
    requestId: `req-${i}`,
    deployment: 'fraud',
    variant: 'stable',
    model: 'fraud-model',
    version: 3,
    features: f32([i, 0.1, -2.5, 1e-7]),
    outputs: [0.1 + i, Math.PI],
    latencyMs: 1.25,
    status: 'OK',
    time: new Date(BASE_TIME_MS + i),
    experimentArm: '',
    unitKey: `u${i}`,
    source: 'predict',
    shadow: false,
    featureSetHash: 'ab'.repeat(32),
    entityKeys: { user_id: `u${i}` },
    error: '',
    experiment: '',
    ...overrides,
  };
}

/** `count` records from `from` on, as a list. */
export function predictionRecords(
  count: number,
  from = 0,
  overrides: Partial<monitor.PredictionRecord> = {},
): monitor.PredictionRecord[] {
  return Array.from({ length: count }, (_, k) => predictionRecord(from + k, overrides));
}

/** `value` rounded to float32, as the wire carries `repeated float`. */
export function f32(values: readonly number[]): number[] {
  return Array.from(Float32Array.from(values));
}
