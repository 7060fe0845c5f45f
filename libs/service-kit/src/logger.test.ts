import { AsyncLocalStorage } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT_CONTEXT, context, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, stdoutDestination } from './logger.js';
import { captureLogger } from './test-support/capture-logger.js';

// @opentelemetry/api alone has no context manager; a minimal AsyncLocalStorage one stands in for
// the SDK's so a span can be "active" in this test.
class TestContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

describe('createLogger', () => {
  beforeAll(() => void context.setGlobalContextManager(new TestContextManager()));
  afterAll(() => context.disable());

  it('adds trace_id and span_id while a span is active, and nothing otherwise', () => {
    const { logger, lines } = captureLogger('registry');
    const span = trace.wrapSpanContext({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    });
    context.with(trace.setSpan(context.active(), span), () => logger.info('inside'));
    logger.info('outside');
    expect(lines[0]).toMatchObject({
      msg: 'inside',
      name: 'registry',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: 'b7ad6b7169203331',
    });
    expect(lines[1]).not.toHaveProperty('trace_id');
  });

  it('takes its level from SLIPWAY_LOG_LEVEL, info by default', () => {
    const sink = { write: () => undefined };
    expect(createLogger('a', { env: { SLIPWAY_LOG_LEVEL: 'debug' }, destination: sink }).level).toBe('debug');
    expect(createLogger('a', { env: { SLIPWAY_LOG_LEVEL: ' ' }, destination: sink }).level).toBe('info');
    expect(createLogger('a', { env: {}, destination: sink }).level).toBe('info');
  });
});

describe('stdoutDestination', () => {
  it('writes whole lines, and stops (without spinning) once the reader of its pipe is gone', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'logger-pipe-'));
    const fifo = path.join(dir, 'out');
    try {
      execFileSync('mkfifo', [fifo]);
      const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      const writer = openSync(fifo, constants.O_WRONLY);
      const destination = stdoutDestination(writer);
      destination.write('{"msg":"one"}\n');
      const buf = Buffer.alloc(64);
      const n = readSync(reader, buf);
      expect(buf.subarray(0, n).toString()).toBe('{"msg":"one"}\n');
      closeSync(reader);
      const started = performance.now();
      for (let i = 0; i < 1_000; i++) destination.write('{"msg":"after the reader left"}\n');
      expect(performance.now() - started).toBeLessThan(1_000);
      closeSync(writer);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
