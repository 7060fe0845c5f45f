// End to end: @slipway/telemetry as apps use it (`node --import @slipway/telemetry/register`), in
// real processes, exporting to an in-process OTLP receiver.
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, telemetryRegisterUrl, useAppHarness, type RunningApp } from './app.js';
import { ensureBuilt } from './build.js';
import { startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from './otlp-receiver.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../test-fixtures/${name}`, import.meta.url));
const echoMethod = 'grpc.fixture.echo.v1.EchoService/Echo';

useAppHarness();
let receiver: OtlpReceiver;
beforeAll(async () => {
  await ensureBuilt('libs/telemetry');
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver?.close());

// The fixtures use plain grpc-js (not the service kit), so they opt in to the generic grpc
// instrumentation through the standard variable.
const GRPC_INSTRUMENTATION = { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'grpc' };

function startServer(env: Record<string, string | undefined>, nodeArgs?: string[]): Promise<RunningApp> {
  return startApp({
    name: 'echo-server',
    entry: fixture('echo-server.mjs'),
    env: { ...GRPC_INSTRUMENTATION, ...env },
    nodeArgs,
  });
}

/** Runs the client fixture to completion; returns its `echoed` log entry. */
async function callOnce(
  server: RunningApp,
  env: Record<string, string | undefined>,
): Promise<Record<string, unknown>> {
  const client = await startApp({
    name: 'echo-client',
    entry: fixture('echo-client.mjs'),
    waitUntil: 'spawned',
    env: { ...GRPC_INSTRUMENTATION, ...env, FIXTURE_TARGET: server.address },
  });
  const echoed = await client.waitForLog((line) => line.json?.['msg'] === 'echoed');
  expect(await client.waitForExit()).toEqual({ code: 0, signal: null });
  expect(client.logs().filter((l) => l.includes('"msg":"flushed"'))).toHaveLength(1);
  return echoed.json!;
}

const otlpEnv = (protocol: string | undefined, service: string): Record<string, string> => ({
  OTEL_SERVICE_NAME: service,
  OTEL_EXPORTER_OTLP_ENDPOINT: protocol === 'grpc' ? receiver.grpcEndpoint : receiver.httpEndpoint,
  ...(protocol ? { OTEL_EXPORTER_OTLP_PROTOCOL: protocol } : {}),
  OTEL_BSP_SCHEDULE_DELAY: '50',
});

describe.each([
  { protocol: 'grpc', label: 'grpc' },
  { protocol: 'http/json', label: 'http/json' },
  { protocol: undefined, label: 'http/protobuf (the default)' },
])('one trace across client and server exported over $label', ({ protocol }) => {
  it('links the server span to the client span, and logs the same trace id', async () => {
    const server = await startServer(otlpEnv(protocol, 'echo-server'));
    const echoed = await callOnce(server, otlpEnv(protocol, 'echo-client'));
    const traceId = echoed['traceId'] as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(echoed['serverTraceId']).toBe(traceId);
    expect(echoed['telemetryStarted']).toBe(true);

    const spans = await receiver.waitForSpans((all) =>
      all.some((s) => s.traceId === traceId && s.kind === 'SERVER'),
    );
    const trace = receiver.trace(traceId);
    const byKind = (kind: OtlpSpan['kind']): OtlpSpan[] => trace.filter((s) => s.kind === kind);
    const [root] = byKind('INTERNAL');
    const [clientSpan] = byKind('CLIENT');
    const [serverSpan] = byKind('SERVER');

    expect(root).toMatchObject({ name: 'fixture.call', parentSpanId: '', serviceName: 'echo-client' });
    expect(root!.attributes['slipway.request_id']).toBe('req-1');
    expect(clientSpan).toMatchObject({
      name: echoMethod,
      parentSpanId: root!.spanId,
      serviceName: 'echo-client',
    });
    expect(serverSpan).toMatchObject({
      name: echoMethod,
      parentSpanId: clientSpan!.spanId,
      serviceName: 'echo-server',
    });
    // Each span once (no double instrumentation), and the exporter's own calls are not traced.
    expect(trace).toHaveLength(3);
    expect(spans.some((s) => s.name.includes('TraceService'))).toBe(false);
    if (protocol) expect(new Set(trace.map((s) => s.transport))).toEqual(new Set([protocol]));

    expect(await server.stop()).toEqual({ code: 0, signal: null, timedOut: false });
    // The server flushed on SIGTERM: its health-check spans made it out too.
    expect(
      receiver.spans().some((s) => s.serviceName === 'echo-server' && s.name.endsWith('Health/Check')),
    ).toBe(true);
  });
});

describe('without an exporter endpoint', () => {
  let server: RunningApp;
  // Stands where the OTel default endpoint (localhost:4318) is, when that port is free here.
  const defaultEndpoint = { sockets: [] as Server[], connections: 0 };
  beforeAll(async () => {
    for (const host of ['127.0.0.1', '::1']) {
      const sentinel = createServer(() => defaultEndpoint.connections++);
      const bound = await new Promise<boolean>((resolve) => {
        sentinel.once('error', () => resolve(false)).listen(4318, host, () => resolve(true));
      });
      if (bound) defaultEndpoint.sockets.push(sentinel);
    }
    receiver.clear();
    const env = {
      OTEL_SERVICE_NAME: 'echo-server',
      FIXTURE_METRICS_ADDR: '127.0.0.1:0',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    };
    server = await startServer(env);
  });
  afterAll(async () => {
    await server?.stop();
    for (const socket of defaultEndpoint.sockets) await new Promise((resolve) => socket.close(resolve));
  });

  it('serves, still puts trace ids in logs, exports nothing and warns about nothing', async () => {
    // The client flushes before it exits: any exporter would have dialled by then.
    const echoed = await callOnce(server, {
      OTEL_SERVICE_NAME: 'echo-client',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    expect(echoed['traceId']).toMatch(/^[0-9a-f]{32}$/);
    expect(echoed['serverTraceId']).toBe(echoed['traceId']);
    const stderr = server.logs().filter((line) => !line.startsWith('{'));
    expect(stderr).toEqual([]);
    expect(receiver.spans()).toEqual([]);
    expect(defaultEndpoint.connections).toBe(0);
  });

  it('serves Prometheus metrics, including an app counter, on GET /metrics', async () => {
    const listening = await server.waitForLog((line) => line.json?.['msg'] === 'listening');
    const metricsUrl = `http://${listening.json!['metricsAddress'] as string}/metrics`;
    const before = await (await fetch(metricsUrl)).text();
    await callOnce(server, {});
    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('# TYPE fixture_echo_requests_total counter');
    const count = (body: string): number =>
      Number(/^fixture_echo_requests_total(?:\{[^}]*\})? (\d+)/m.exec(body)?.[1] ?? 0);
    expect(count(text)).toBe(count(before) + 1);
    expect((await fetch(metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
  });
});

describe('configuration problems never stop an app', () => {
  it('an unknown protocol and an endpoint that is not a URL are reported on stderr; the app serves', async () => {
    for (const env of [
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.httpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon' },
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4317' },
    ]) {
      const server = await startServer(env);
      await callOnce(server, {});
      expect(server.logs().join('\n')).toMatch(
        /\[@slipway\/telemetry\] warning: .*(carrier-pigeon|is not a URL|must start with http)/,
      );
      expect(await server.stop()).toMatchObject({ code: 0 });
    }
  });

  it('OTEL_SDK_DISABLED=true turns telemetry off: no spans, no trace ids, the app serves', async () => {
    receiver.clear();
    const env = { ...otlpEnv('http/json', 'disabled'), OTEL_SDK_DISABLED: 'true' };
    const server = await startServer(env);
    const echoed = await callOnce(server, env);
    expect(echoed).toMatchObject({ traceId: '', serverTraceId: '', telemetryStarted: false });
    expect(await server.stop()).toMatchObject({ code: 0 });
    expect(receiver.spans()).toEqual([]);
  });

  it('importing the register entry twice starts one SDK (each span exported once)', async () => {
    const registerUrl = telemetryRegisterUrl();
    // A query string makes Node evaluate the module a second time.
    const server = await startServer(otlpEnv('grpc', 'twice'), ['--import', `${registerUrl}?again`]);
    const echoed = await callOnce(server, otlpEnv('grpc', 'twice-client'));
    await receiver.waitForSpans((all) =>
      all.some((s) => s.traceId === echoed['traceId'] && s.kind === 'SERVER'),
    );
    expect(await server.stop()).toMatchObject({ code: 0 });
    expect(receiver.trace(echoed['traceId'] as string).filter((s) => s.kind === 'SERVER')).toHaveLength(1);
  });
});
