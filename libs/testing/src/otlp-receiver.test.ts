import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, useAppHarness } from './app.js';
import { startOtlpReceiver, type OtlpReceiver, type OtlpTransport } from './otlp-receiver.js';

const exporterScript = fileURLToPath(new URL('../test-fixtures/export-spans.mjs', import.meta.url));

useAppHarness();
let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());

/** Runs the real OTLP exporter for `protocol` in a child process; returns the ids it logged. */
async function exportSpans(protocol: OtlpTransport): Promise<Record<string, string>> {
  const app = await startApp({
    name: `exporter-${protocol}`,
    entry: exporterScript,
    telemetry: false,
    waitUntil: 'spawned',
    env: {
      FIXTURE_PROTOCOL: protocol,
      FIXTURE_ENDPOINT: protocol === 'grpc' ? receiver.grpcEndpoint : receiver.httpEndpoint,
    },
  });
  const line = await app.waitForLog((l) => l.json?.['msg'] === 'exported');
  expect(await app.waitForExit()).toEqual({ code: 0, signal: null });
  return line.json as Record<string, string>;
}

describe.each<OtlpTransport>(['grpc', 'http/protobuf', 'http/json'])(
  'spans from the real OTLP exporter over %s',
  (protocol) => {
    it('arrive decoded: ids, parent, kind, service, attributes, times, status and links', async () => {
      const ids = await exportSpans(protocol);
      await receiver.waitForSpans((all) => all.filter((s) => s.traceId === ids['traceId']).length === 2);
      const spans = receiver.trace(ids['traceId']!);
      const parent = spans.find((s) => s.name === 'parent')!;
      const child = spans.find((s) => s.name === 'child')!;

      expect(spans.map((s) => s.transport)).toEqual([protocol, protocol]);
      expect(parent).toMatchObject({
        spanId: ids['parentSpanId'],
        parentSpanId: '',
        kind: 'SERVER',
        serviceName: `svc-${protocol}`,
        scope: { name: 'receiver-test', version: '1.2.3' },
        status: { code: 'UNSET' },
      });
      expect(child).toMatchObject({
        traceId: ids['traceId'],
        spanId: ids['childSpanId'],
        parentSpanId: ids['parentSpanId'],
        kind: 'CLIENT',
        status: { code: 'ERROR', message: 'model "fraud" has no version 9' },
        attributes: {
          'slipway.deployment': 'fraud',
          'slipway.batch.size': 8,
          'slipway.queue.time_ms': 1.5,
          'slipway.shadow': true,
          'slipway.variants': ['stable', 'canary'],
        },
        links: [
          { traceId: ids['linkedTraceId'], spanId: ids['linkedSpanId'], attributes: { reason: 'batched' } },
        ],
      });
      expect(child.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(child.startTimeUnixNano).toBeGreaterThan(1_600_000_000_000_000_000n);
      expect(child.endTimeUnixNano).toBeGreaterThanOrEqual(child.startTimeUnixNano);
      expect(receiver.trace(ids['linkedTraceId']!).map((s) => s.name)).toEqual(['linked']);
    });
  },
);

describe('OtlpReceiver', () => {
  it('clear() forgets spans, and waitForSpans() says what arrived when it gives up', async () => {
    receiver.clear();
    expect(receiver.spans()).toEqual([]);
    await expect(receiver.waitForSpans((spans) => spans.length > 0, 50)).rejects.toThrow(/received: none/);
  });

  it('answers 415 to an unknown content type and 400 to an undecodable body', async () => {
    const url = `${receiver.httpEndpoint}/v1/traces`;
    expect(
      (await fetch(url, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).status,
    ).toBe(415);
    const garbage = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(garbage.status).toBe(400);
    const badProto = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0x0a, 0xff]),
    });
    expect(badProto.status).toBe(400);
  });
});
