// End-to-end checks of the service kit on a real process: the test-only echo service built from
// the kit (test/apps/echo-service), started by the harness with telemetry registered.
import path from 'node:path';
import { testing } from '@slipway/contracts';
import { checkHealth, createClient } from '@slipway/service-kit';
import {
  ensureBuilt,
  repoRoot,
  startApp,
  startOtlpReceiver,
  useAppHarness,
  type OtlpReceiver,
} from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

useAppHarness();

const entry = path.join(repoRoot, 'test/apps/echo-service/dist/main.js');
const callEntry = path.join(repoRoot, 'test/apps/echo-service/dist/call.js');

beforeAll(async () => {
  await ensureBuilt('test/apps/echo-service');
});

describe('echo service process', () => {
  it('drains on SIGTERM: NOT_SERVING first, in-flight call completes, exit 0', async () => {
    const app = await startApp({
      name: 'echo',
      entry,
      env: { SLIPWAY_ECHO_ADDR: '127.0.0.1:0', SLIPWAY_ECHO_DRAIN_DELAY_MS: '1500' },
    });
    expect(await checkHealth(app.address)).toBe('SERVING');
    const client = createClient(testing.EchoServiceService, app.address, { retry: { maxAttempts: 1 } });
    try {
      const inFlight = client.slow({ delayMs: 2500 });
      // Give the call time to reach the server before the signal.
      await app.waitForLog((line) => line.text.includes('"slow"') || true, 200).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stopped = app.stop('SIGTERM', 15_000);
      await app.waitForLog((line) => /drain|NOT_SERVING|shutting down/i.test(line.text), 5_000);
      expect(await checkHealth(app.address)).toBe('NOT_SERVING');
      await expect(inFlight).resolves.toMatchObject({ deadlineRemainingMs: expect.any(Number) });
      expect(await stopped).toMatchObject({ code: 0, timedOut: false });
    } finally {
      client.close();
    }
  });

  it('refuses a mutation without a token across processes, with UNAUTHENTICATED', async () => {
    const app = await startApp({
      name: 'echo',
      entry,
      env: { SLIPWAY_ECHO_ADDR: '127.0.0.1:0', SLIPWAY_ECHO_TOKENS: 'sekret=ci:deployer' },
    });
    const anonymous = createClient(testing.EchoServiceService, app.address);
    const deployer = createClient(testing.EchoServiceService, app.address, { token: 'sekret' });
    try {
      await expect(anonymous.mutate({ key: 'k' })).rejects.toMatchObject({ code: 16 });
      await expect(deployer.mutate({ key: 'k' })).resolves.toEqual({ actor: 'ci', role: 'deployer' });
    } finally {
      anonymous.close();
      deployer.close();
    }
    expect(await app.stop()).toMatchObject({ code: 0 });
  });
});

describe.each(['grpc', 'http/json'] as const)('traces over OTLP %s', (protocol) => {
  let otlp: OtlpReceiver;
  beforeAll(async () => {
    otlp = await startOtlpReceiver();
  });
  afterAll(() => otlp.close());

  it('one trace id from the client process to the server process', async () => {
    const endpoint = protocol === 'grpc' ? otlp.grpcEndpoint : otlp.httpEndpoint;
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    const server = await startApp({
      name: 'echo',
      entry,
      env: { ...otel, OTEL_SERVICE_NAME: 'echo-server', SLIPWAY_ECHO_ADDR: '127.0.0.1:0' },
    });
    const caller = await startApp({
      name: 'echo-call',
      entry: callEntry,
      args: [server.address, 'traced'],
      waitUntil: 'spawned',
      env: { ...otel, OTEL_SERVICE_NAME: 'echo-client' },
    });
    expect(await caller.waitForExit(15_000)).toMatchObject({ code: 0 });
    const printed = caller
      .logs()
      .map((line) => (line.startsWith('{"text"') ? (JSON.parse(line) as { traceId: string }) : undefined))
      .find(Boolean);
    expect(printed?.traceId).toMatch(/^[0-9a-f]{32}$/);
    const traceId = printed!.traceId;

    await otlp.waitForSpans(
      (spans) =>
        spans.some((s) => s.traceId === traceId && s.kind === 'SERVER' && s.serviceName === 'echo-server'),
      10_000,
    );
    const trace = otlp.trace(traceId);
    const clientSpan = trace.find((s) => s.kind === 'CLIENT' && s.serviceName === 'echo-client');
    const serverSpan = trace.find((s) => s.kind === 'SERVER' && s.serviceName === 'echo-server');
    expect(clientSpan?.name).toContain('slipway.testing.v1.EchoService/Echo');
    expect(serverSpan?.parentSpanId).toBe(clientSpan?.spanId);
    expect(await server.stop()).toMatchObject({ code: 0 });
  });
});
