import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { meter } from './spans.js';
import { telemetryState } from './state.js';

/** A running Prometheus scrape endpoint. */
export interface MetricsServer {
  /** Bound `host:port` (the real port when 0 was asked for). */
  readonly address: string;
  /** Stops listening and drops open scrape connections. Idempotent. */
  close(): Promise<void>;
}

function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
  const port = Number(address.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `metrics address "${address}" must be host:port, e.g. 127.0.0.1:9464 (port 0 picks a free port)`,
    );
  }
  return { host, port };
}

function formatAddress({ address, family, port }: AddressInfo): string {
  return family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`;
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  const path = (request.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    response
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('not found: metrics are served on GET /metrics\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('use GET\n');
    return;
  }
  const state = telemetryState();
  if (!state || state.shutdown) {
    // Scrapes keep succeeding when telemetry is disabled, so alerts say "no data", not "target down".
    response
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      .end('# telemetry is not running\n');
    return;
  }
  state.prometheus.getMetricsRequestHandler(request, response);
}

/**
 * Serves the Prometheus text exposition of every instrument created through {@link meter} (or the
 * global meter provider) on `GET /metrics`.
 * @param address `host:port` to bind; port 0 picks a free one (read it back from `address`).
 */
let processMetricsRegistered = false;

/**
 * The process's own resources, as OpenTelemetry's semantic conventions name them: CPU time by
 * mode (`process.cpu.time`, seconds) and resident memory and V8 heap (`process.memory.usage`,
 * bytes), read when Prometheus scrapes. Every app with a metrics endpoint reports them, so an SRE
 * sees the CPU and memory of each service beside its request metrics.
 */
function registerProcessMetrics(): void {
  if (processMetricsRegistered) return;
  processMetricsRegistered = true;
  const m = meter('@slipway/telemetry');
  m.createObservableCounter('process.cpu.time', {
    description: 'CPU time used by the process, by mode',
    unit: 's',
  }).addCallback((result) => {
    const { user, system } = process.cpuUsage();
    result.observe(user / 1e6, { 'cpu.mode': 'user' });
    result.observe(system / 1e6, { 'cpu.mode': 'system' });
  });
  m.createObservableUpDownCounter('process.memory.usage', {
    description: 'Memory of the process: resident set, and V8 heap in use',
    unit: 'By',
  }).addCallback((result) => {
    const usage = process.memoryUsage();
    result.observe(usage.rss, { 'memory.type': 'rss' });
    result.observe(usage.heapUsed, { 'memory.type': 'heap_used' });
  });
}

export async function startMetricsServer(address: string): Promise<MetricsServer> {
  registerProcessMetrics();
  const { host, port } = parseAddress(address);
  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    address: formatAddress(server.address() as AddressInfo),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
