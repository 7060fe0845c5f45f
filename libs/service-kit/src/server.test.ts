import { testing } from '@slipway/contracts';
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createClient, type ClientOptions } from './client.js';
import { PermissionDeniedError, SlipwayError, UnauthenticatedError, UnavailableError } from './errors.js';
import { checkHealth } from './health-client.js';
import { createServiceServer } from './server.js';
import { captureLogger } from './test-support/capture-logger.js';
import { FAIL_KINDS, startEchoServer, type EchoServerOptions } from './test-support/echo-service.js';
import { askReflection } from './test-support/reflection-client.js';
import { createTeardown } from './test-support/teardown.js';

const ECHO = 'slipway.testing.v1.EchoService';
const teardown = createTeardown();
afterEach(() => teardown.run());

async function start(options: EchoServerOptions = {}) {
  const echo = await startEchoServer(options);
  return teardown.add(echo, () => echo.server.shutdown('test over'));
}

function client(address: string, options: ClientOptions = {}) {
  const c = createClient(testing.EchoServiceService, address, { retry: { maxAttempts: 1 }, ...options });
  return teardown.add(c, () => c.close());
}

describe('service server', () => {
  it('logs the bound address once listening, with the real port', async () => {
    const { address, logs } = await start();
    expect(address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(logs.lines).toContainEqual(
      expect.objectContaining({ msg: 'listening', service: 'echo', address }),
    );
  });

  it('answers health checks SERVING for the server and each added service after start', async () => {
    const { address } = await start();
    expect(await checkHealth(address)).toBe('SERVING');
    expect(await checkHealth(address, ECHO)).toBe('SERVING');
    expect(await checkHealth(address, 'slipway.nope.v1.Missing')).toBe('SERVICE_UNKNOWN');
  });

  it('reports NOT_SERVING during the drain delay while still serving calls', async () => {
    const { server, address } = await start({ drainDelayMs: 400 });
    const echo = client(address);
    const stopping = server.shutdown('test');
    expect(await checkHealth(address)).toBe('NOT_SERVING');
    expect(await checkHealth(address, ECHO)).toBe('NOT_SERVING');
    const reply = await echo.echo({ payload: Buffer.from('x'), text: 'still here' });
    expect(reply.text).toBe('still here');
    await stopping;
  });

  it('lists the added services and health through server reflection, and describes them', async () => {
    const { address } = await start();
    const listed = await askReflection(address, { list_services: '*' });
    const names = listed.list_services_response?.service.map((s) => s.name).sort();
    expect(names).toEqual(['grpc.health.v1.Health', ECHO]);
    const described = await askReflection(address, { file_containing_symbol: ECHO });
    expect(described.file_descriptor_response?.file_descriptor_proto.length).toBeGreaterThan(0);
  });

  describe('auth', () => {
    it('refuses Mutate without a token as UNAUTHENTICATED', async () => {
      const { address, probe } = await start();
      const err = await client(address)
        .mutate({ key: 'k' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnauthenticatedError);
      expect((err as SlipwayError).code).toBe(status.UNAUTHENTICATED);
      expect(probe.calls.get('mutate')).toBeUndefined();
    });

    it('refuses an unknown token as UNAUTHENTICATED', async () => {
      const { address } = await start();
      await expect(client(address, { token: 'forged' }).mutate({ key: 'k' })).rejects.toBeInstanceOf(
        UnauthenticatedError,
      );
    });

    it('refuses Mutate for a reader as PERMISSION_DENIED, naming the role needed', async () => {
      const { address } = await start();
      const err = await client(address, { token: 'reader-token' })
        .mutate({ key: 'k' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermissionDeniedError);
      expect((err as Error).message).toContain('deployer');
    });

    it('lets a deployer Mutate and tells the handler who called', async () => {
      const { address } = await start();
      const reply = await client(address, { token: 'deployer-token' }).mutate({ key: 'k' });
      expect(reply).toEqual({ actor: 'dana', role: 'deployer' });
    });

    it('keeps Purge for admins', async () => {
      const { address } = await start();
      await expect(client(address, { token: 'deployer-token' }).purge({})).rejects.toBeInstanceOf(
        PermissionDeniedError,
      );
      expect(await client(address, { token: 'admin-token' }).purge({})).toEqual({ actor: 'ada' });
    });

    it('leaves open methods, health and reflection open', async () => {
      const { address } = await start();
      expect((await client(address).echo({ payload: Buffer.alloc(0), text: 'hi' })).text).toBe('hi');
      expect(await checkHealth(address)).toBe('SERVING');
    });

    it('refuses protected methods when the server has no tokens at all', async () => {
      const { address } = await start({ auth: undefined });
      await expect(client(address, { token: 'admin-token' }).purge({})).rejects.toBeInstanceOf(
        UnauthenticatedError,
      );
    });
  });

  describe('errors', () => {
    it.each(FAIL_KINDS)('maps %s to its status code with its message intact', async (kind, ErrorType) => {
      const { address } = await start();
      const message = `model "fraud" has no version 9 (${kind})`;
      const err = await client(address)
        .fail({ kind, message })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ErrorType);
      expect((err as SlipwayError).code).toBe(status[kind.toUpperCase() as keyof typeof status]);
      expect((err as Error).message).toBe(message);
    });

    it('turns an unexpected exception into INTERNAL without leaking its message, and logs it', async () => {
      const { address, logs } = await start();
      const secret = 'password=hunter2 at db.internal:5432';
      const err = await client(address)
        .fail({ kind: 'unexpected', message: secret })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SlipwayError);
      expect((err as SlipwayError).code).toBe(status.INTERNAL);
      expect((err as Error).message).toMatch(/^internal error; see server logs, trace [0-9a-f]{32}$/);
      expect((err as Error).message).not.toContain('hunter2');
      const traceId = (err as Error).message.split(' ').at(-1);
      const logged = logs.lines.find((line) => line['trace_id'] === traceId);
      expect(logged).toMatchObject({ level: 50, method: '/slipway.testing.v1.EchoService/Fail' });
      expect(JSON.stringify(logged)).toContain('hunter2');
    });
  });

  describe('shutdown', () => {
    it('lets an in-flight call finish and refuses calls started after shutdown began', async () => {
      const { server, address, probe } = await start();
      const echo = client(address);
      const inFlight = echo.slow({ delayMs: 300 });
      await once(probe, 'slow');
      const stopping = server.shutdown('test');
      const late = echo.echo({ payload: Buffer.alloc(0), text: 'late' }).catch((e: unknown) => e);
      expect(await inFlight).toMatchObject({ deadlineRemainingMs: expect.any(Number) });
      expect(await late).toBeInstanceOf(UnavailableError);
      expect(probe.calls.get('echo')).toBeUndefined();
      await stopping;
    });

    it('is idempotent: a second shutdown() returns the same promise', async () => {
      const { server } = await start();
      const first = server.shutdown('one');
      expect(server.shutdown('two')).toBe(first);
      await first;
      await server.shutdown('three');
    });

    it('runs closers in reverse order after the server stopped, logging (not throwing) their errors', async () => {
      const logs = captureLogger();
      const server = createServiceServer({ name: 'closers', address: '127.0.0.1:0', logger: logs.logger });
      const { address } = await server.start();
      const order: string[] = [];
      server.onShutdown(() => void order.push('db'), 'db');
      server.onShutdown(() => {
        throw new Error('spool disk full');
      }, 'spool');
      server.onShutdown(async () => {
        order.push(`telemetry (health: ${await checkHealth(address).catch(() => 'down')})`);
      }, 'telemetry');
      await server.shutdown('test');
      expect(order).toEqual(['telemetry (health: down)', 'db']);
      expect(logs.lines).toContainEqual(expect.objectContaining({ msg: 'closer failed', closer: 'spool' }));
    });
  });
});
