import { readFileSync } from 'node:fs';
import path from 'node:path';
import { monitor, registry, serving } from '@slipway/contracts';
import { createClient, type ServiceClient } from '@slipway/service-kit';

/** Where the CLI finds the platform and who it is. */
export interface CliContext {
  readonly registryAddress: string;
  /** The router's PredictionService, for `slipway predict`. */
  readonly routerAddress: string;
  /** The monitor's MonitorService, for `slipway monitor`, `outcome` and the reports. */
  readonly monitorAddress: string;
  readonly token: string | undefined;
  readonly json: boolean;
  readonly dataDir: string;
  models(): ServiceClient<typeof registry.ModelServiceService>;
  deployments(): ServiceClient<typeof registry.DeploymentServiceService>;
  endpoints(): ServiceClient<typeof registry.EndpointServiceService>;
  audit(): ServiceClient<typeof registry.AuditServiceService>;
  /** Batch schedules and runs, for `slipway batch schedule` and `slipway batch runs`. */
  batch(): ServiceClient<typeof registry.BatchServiceService>;
  predictions(): ServiceClient<typeof serving.PredictionServiceService>;
  monitor(): ServiceClient<typeof monitor.MonitorServiceService>;
  close(): void;
}

/** Global options every command accepts. */
export interface GlobalOptions {
  json?: boolean;
  registry?: string;
  router?: string;
  monitor?: string;
}

/**
 * Reads `SLIPWAY_REGISTRY_ADDR` (default 127.0.0.1:7001), `SLIPWAY_ROUTER_ADDR` (default
 * 127.0.0.1:8001), `SLIPWAY_MONITOR_ADDR` (default 127.0.0.1:7003; `--registry`, `--router` and
 * `--monitor` take precedence), the token from `SLIPWAY_TOKEN` or `<SLIPWAY_DATA_DIR>/admin.token`
 * (written by `slipway up`), and the output mode.
 */
export function createCliContext(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CliContext {
  const dataDir = env['SLIPWAY_DATA_DIR'] || '.slipway';
  const registryAddress = options.registry || env['SLIPWAY_REGISTRY_ADDR'] || '127.0.0.1:7001';
  const routerAddress = options.router || env['SLIPWAY_ROUTER_ADDR'] || '127.0.0.1:8001';
  const monitorAddress = options.monitor || env['SLIPWAY_MONITOR_ADDR'] || '127.0.0.1:7003';
  const token = env['SLIPWAY_TOKEN'] || readTokenFile(path.join(dataDir, 'admin.token'));
  const clients = new Map<string, { close(): void }>();
  const lazy = <T extends { close(): void }>(key: string, make: () => T): T => {
    let client = clients.get(key) as T | undefined;
    if (!client) {
      client = make();
      clients.set(key, client);
    }
    return client;
  };
  const opts = { token, defaultDeadlineMs: 30_000 };
  return {
    registryAddress,
    routerAddress,
    monitorAddress,
    token,
    json: options.json ?? false,
    dataDir,
    models: () => lazy('models', () => createClient(registry.ModelServiceService, registryAddress, opts)),
    deployments: () =>
      lazy('deployments', () => createClient(registry.DeploymentServiceService, registryAddress, opts)),
    endpoints: () =>
      lazy('endpoints', () => createClient(registry.EndpointServiceService, registryAddress, opts)),
    audit: () => lazy('audit', () => createClient(registry.AuditServiceService, registryAddress, opts)),
    batch: () => lazy('batch', () => createClient(registry.BatchServiceService, registryAddress, opts)),
    predictions: () =>
      lazy('predictions', () =>
        createClient(serving.PredictionServiceService, routerAddress, { token, defaultDeadlineMs: 10_000 }),
      ),
    monitor: () => lazy('monitor', () => createClient(monitor.MonitorServiceService, monitorAddress, opts)),
    close: () => {
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}

function readTokenFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
