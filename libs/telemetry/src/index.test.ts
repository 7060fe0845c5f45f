// In-process checks of what works without the SDK. The SDK itself is exercised in real processes
// by libs/testing/src/telemetry-e2e.test.ts (it is started by the register entry, not by imports).
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  context,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Context,
  type ContextManager,
  type Span,
  type SpanOptions,
  type SpanStatus,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  currentTraceId,
  isTelemetryStarted,
  shutdownTelemetry,
  SlipwayAttributes,
  startMetricsServer,
  withSpan,
} from './index.js';

interface RecordedSpan {
  name: string;
  attributes: unknown;
  status?: SpanStatus;
  exceptions: unknown[];
  ended: boolean;
}

/** A tracer provider that records what withSpan does to its span. */
function recordingProvider(recorded: RecordedSpan[]): TracerProvider {
  let next = 1;
  const tracer: Tracer = {
    startSpan(name: string, options: SpanOptions = {}): Span {
      const record: RecordedSpan = { name, attributes: options.attributes, exceptions: [], ended: false };
      recorded.push(record);
      const spanContext = {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: (next++).toString(16).padStart(16, '0'),
        traceFlags: TraceFlags.SAMPLED,
      };
      const span: Span = {
        spanContext: () => spanContext,
        setAttribute: () => span,
        setAttributes: () => span,
        addEvent: () => span,
        addLink: () => span,
        addLinks: () => span,
        setStatus: (status) => ((record.status = status), span),
        updateName: () => span,
        end: () => void (record.ended = true),
        isRecording: () => true,
        recordException: (exception) => void record.exceptions.push(exception),
      };
      return span;
    },
    startActiveSpan(name: string, ...rest: unknown[]): never {
      const fn = rest.at(-1) as (span: Span) => unknown;
      const options = (rest.length > 1 ? rest[0] : {}) as SpanOptions;
      const span = tracer.startSpan(name, options);
      return context.with(trace.setSpan(context.active(), span), () => fn(span)) as never;
    },
  };
  return { getTracer: () => tracer };
}

/** What the SDK's AsyncLocalStorage context manager does, in brief. */
function asyncContextManager(): ContextManager {
  const storage = new AsyncLocalStorage<Context>();
  const manager: ContextManager = {
    active: () => storage.getStore() ?? ROOT_CONTEXT,
    with: (ctx, fn, thisArg, ...args) => storage.run(ctx, () => fn.call(thisArg, ...args)),
    bind: (_ctx, target) => target,
    enable: () => manager,
    disable: () => (storage.disable(), manager),
  };
  return manager;
}

describe('withSpan and currentTraceId', () => {
  const recorded: RecordedSpan[] = [];
  beforeAll(() => {
    context.setGlobalContextManager(asyncContextManager());
    trace.setGlobalTracerProvider(recordingProvider(recorded));
  });
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  it('runs fn in an active span with the attributes, returns its value and ends the span', async () => {
    expect(currentTraceId()).toBeUndefined();
    const result = await withSpan('worker.infer', { [SlipwayAttributes.BATCH_SIZE]: 4 }, async () => {
      await Promise.resolve();
      return currentTraceId();
    });
    expect(result).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(recorded.at(-1)).toMatchObject({
      name: 'worker.infer',
      attributes: { 'slipway.batch.size': 4 },
      ended: true,
      exceptions: [],
    });
    expect(recorded.at(-1)!.status).toBeUndefined();
  });

  it('records a failure on the span, marks it ERROR, ends it and rethrows', async () => {
    const failure = new Error('model "fraud" has no version 9 (latest is 7)');
    await expect(withSpan('registry.resolve', {}, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(recorded.at(-1)).toMatchObject({
      name: 'registry.resolve',
      ended: true,
      exceptions: [failure],
      status: { code: 2, message: failure.message },
    });
  });
});

describe('without a started SDK', () => {
  it('reports telemetry as not started and shuts down as a no-op', async () => {
    expect(isTelemetryStarted()).toBe(false);
    await expect(shutdownTelemetry()).resolves.toBeUndefined();
  });

  it('keeps /metrics answering (so scrapes say "no data", not "target down") and 404s other paths', async () => {
    const server = await startMetricsServer('127.0.0.1:0');
    try {
      expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
      const metrics = await fetch(`http://${server.address}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# telemetry is not running');
      expect((await fetch(`http://${server.address}/`)).status).toBe(404);
      expect((await fetch(`http://${server.address}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
      await server.close();
    }
  });

  it('rejects a metrics address without a port, saying what is expected', async () => {
    await expect(startMetricsServer('localhost')).rejects.toThrow(/must be host:port/);
  });
});
