import { once } from 'node:events';
import { status } from '@grpc/grpc-js';
import { testing } from '@slipway/contracts';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { createClient, type ClientOptions } from './client.js';
import { createServiceServer } from './server.js';
import { captureLogger } from './test-support/capture-logger.js';
import {
  CancelledError,
  DeadlineExceededError,
  InvalidArgumentError,
  UnavailableError,
  type SlipwayError,
} from './errors.js';
import {
  startEchoServer,
  type EchoImplementation,
  type EchoServerOptions,
} from './test-support/echo-service.js';
import { createTeardown } from './test-support/teardown.js';

const teardown = createTeardown();
afterEach(() => teardown.run());

async function start(options: EchoServerOptions = {}) {
  const echo = await startEchoServer(options);
  return teardown.add(echo, () => echo.server.shutdown('test over'));
}

function client(address: string, options: ClientOptions = {}) {
  const c = createClient(testing.EchoServiceService, address, options);
  return teardown.add(c, () => c.close());
}

const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20 };

describe('client', () => {
  it('types each method from the definition', () => {
    const c = createClient(testing.EchoServiceService, '127.0.0.1:1');
    c.close();
    expectTypeOf(c.echo).parameter(0).toEqualTypeOf<testing.EchoRequest>();
    expectTypeOf(c.echo).returns.toEqualTypeOf<Promise<testing.EchoResponse>>();
    expectTypeOf(c.count).returns.toEqualTypeOf<AsyncIterable<testing.CountResponse>>();
    expectTypeOf(c.sum).returns.toEqualTypeOf<Promise<testing.SumResponse>>();
    expectTypeOf<EchoImplementation['count']>().returns.toEqualTypeOf<AsyncIterable<testing.CountResponse>>();
    expectTypeOf<EchoImplementation['sum']>().parameter(0).toEqualTypeOf<AsyncIterable<testing.SumRequest>>();
  });

  describe('deadlines', () => {
    it('gives every call a deadline: the client default when none is named', async () => {
      const { address } = await start();
      const reply = await client(address, { defaultDeadlineMs: 5_000 }).slow({ delayMs: 0 });
      expect(reply.deadlineRemainingMs).toBeGreaterThan(0);
      expect(reply.deadlineRemainingMs).toBeLessThanOrEqual(5_000);
    });

    it("propagates the caller's deadline through a handler that calls another server with parent: ctx", async () => {
      const backend = await start();
      const downstream = client(backend.address, { defaultDeadlineMs: 10_000 });
      const front = await start({
        override: { slow: (request, ctx) => downstream.slow(request, { parent: ctx }) },
      });
      const reply = await client(front.address).slow({ delayMs: 0 }, { deadline: 1_500 });
      // The backend saw the caller's remaining time, not the downstream client's 10 s default.
      expect(reply.deadlineRemainingMs).toBeGreaterThan(0);
      expect(reply.deadlineRemainingMs).toBeLessThanOrEqual(1_500);
    });

    it('fails with DeadlineExceededError when the deadline passes, without retrying', async () => {
      const { address, probe } = await start();
      const err = await client(address)
        .slow({ delayMs: 10_000 }, { deadline: 200 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeadlineExceededError);
      expect((err as SlipwayError).code).toBe(status.DEADLINE_EXCEEDED);
      expect(probe.calls.get('slow')).toBe(1);
    });

    it('cancels the call when its signal aborts', async () => {
      const { address, probe } = await start();
      const controller = new AbortController();
      const pending = client(address)
        .slow({ delayMs: 10_000 }, { signal: controller.signal })
        .catch((e: unknown) => e);
      await once(probe, 'slow');
      controller.abort();
      expect(await pending).toBeInstanceOf(CancelledError);
    });
  });

  describe('retries', () => {
    function flakyEcho(failures: number): { attempts: () => number; override: Partial<EchoImplementation> } {
      let attempts = 0;
      return {
        attempts: () => attempts,
        override: {
          async echo(request) {
            attempts++;
            if (attempts <= failures) throw new UnavailableError(`warming up (attempt ${attempts})`);
            return { payload: request.payload, text: request.text };
          },
        },
      };
    }

    it('retries UNAVAILABLE and succeeds once the server recovers', async () => {
      const flaky = flakyEcho(2);
      const { address } = await start({ override: flaky.override });
      const reply = await client(address, { retry: FAST_RETRY }).echo({
        payload: Buffer.alloc(0),
        text: 'ok',
      });
      expect(reply.text).toBe('ok');
      expect(flaky.attempts()).toBe(3);
    });

    it('gives up after maxAttempts with the last UnavailableError', async () => {
      const flaky = flakyEcho(5);
      const { address } = await start({ override: flaky.override });
      const err = await client(address, { retry: { ...FAST_RETRY, maxAttempts: 2 } })
        .echo({ payload: Buffer.alloc(0), text: 'ok' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as Error).message).toBe('warming up (attempt 2)');
      expect(flaky.attempts()).toBe(2);
    });

    it('never retries INVALID_ARGUMENT', async () => {
      const { address, probe } = await start();
      const err = await client(address, { retry: FAST_RETRY })
        .fail({ kind: 'invalid_argument', message: 'no' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(probe.calls.get('fail')).toBe(1);
    });

    it('reports an unreachable server as UnavailableError', async () => {
      const { server, address } = await start();
      await server.shutdown('gone');
      await expect(
        client(address, { retry: FAST_RETRY }).echo({ payload: Buffer.alloc(0), text: '' }),
      ).rejects.toBeInstanceOf(UnavailableError);
    });
  });

  describe('streams', () => {
    it('reads a server stream to its end', async () => {
      const { address } = await start();
      const seen: number[] = [];
      for await (const message of client(address).count({ count: 5, intervalMs: 0 }))
        seen.push(message.index);
      expect(seen).toEqual([0, 1, 2, 3, 4]);
    });

    it('cancels the server stream when the consumer breaks out', async () => {
      const { address, probe } = await start();
      const aborted = once(probe, 'count-aborted');
      const seen: number[] = [];
      for await (const message of client(address).count({ count: 10_000, intervalMs: 20 })) {
        seen.push(message.index);
        if (seen.length === 2) break;
      }
      const [reason] = await aborted;
      expect(reason).toBeInstanceOf(CancelledError);
      expect(seen).toEqual([0, 1]);
    });

    it('surfaces a server-stream failure as the typed error', async () => {
      const { address } = await start();
      const consume = async (): Promise<void> => {
        for await (const _ of client(address).count({ count: 20_000, intervalMs: 0 })) void _;
      };
      await expect(consume()).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('sends a client stream from an array or an async generator', async () => {
      const { address } = await start();
      const echo = client(address);
      expect(await echo.sum([{ value: 1 }, { value: 2 }, { value: 3 }])).toEqual({ total: 6, messages: 3 });
      async function* values(): AsyncGenerator<testing.SumRequest> {
        for (let value = 1; value <= 100; value++) yield { value };
      }
      expect(await echo.sum(values())).toEqual({ total: 5_050, messages: 100 });
    });

    it('abandons a client stream whose source fails, rejecting with the source error', async () => {
      const { address } = await start();
      async function* broken(): AsyncGenerator<testing.SumRequest> {
        yield { value: 1 };
        throw new Error('source broke');
      }
      await expect(client(address).sum(broken())).rejects.toThrow('source broke');
    });
  });

  it('runs a bidirectional stream both ways', async () => {
    // echo.proto has no bidi method; this test-only definition reuses Sum's messages for one.
    const { sum } = testing.EchoServiceService;
    const runningTotals = {
      totals: {
        ...sum,
        path: '/slipway.testing.v1.RunningTotals/Totals' as const,
        responseStream: true as const,
      },
    };
    const server = createServiceServer({
      name: 'totals',
      address: '127.0.0.1:0',
      logger: captureLogger().logger,
    });
    teardown.add(server, () => server.shutdown('test over'));
    server.add(runningTotals, {
      async *totals(requests) {
        let total = 0;
        let messages = 0;
        for await (const request of requests) yield { total: (total += request.value), messages: ++messages };
      },
    });
    const { address } = await server.start();
    const totals = createClient(runningTotals, address);
    teardown.add(totals, () => totals.close());
    const seen: number[] = [];
    for await (const reply of totals.totals([{ value: 1 }, { value: 2 }, { value: 3 }]))
      seen.push(reply.total);
    expect(seen).toEqual([1, 3, 6]);
  });

  it('waits for a server to be ready', async () => {
    const { address } = await start();
    await expect(client(address).waitForReady(2_000)).resolves.toBeUndefined();
  });
});
