import { inference, registry } from '@slipway/contracts';
import { UnavailableError } from '@slipway/errors';
import { createLogger, createServiceServer, type ServiceServer } from '@slipway/service-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { createReplicaPool, type ReplicaPool } from './replicas.js';

const logger = createLogger('replicas-test', { level: 'silent' });

/** A worker stand-in: a real grpc-js server whose ModelInfer answers with its own name. */
async function startWorker(
  name: string,
  delayMs = 0,
): Promise<{ server: ServiceServer; address: string; calls: () => number }> {
  let calls = 0;
  const server = createServiceServer({ name, address: '127.0.0.1:0', logger });
  server.add(inference.GRPCInferenceServiceService, {
    serverLive: async () => ({ live: true }),
    serverReady: async () => ({ ready: true }),
    modelReady: async () => ({ ready: true }),
    serverMetadata: async () => ({ name, version: '1', extensions: [] }),
    modelMetadata: async (r) => ({
      name: r.name,
      versions: [r.version],
      platform: 'onnx',
      inputs: [],
      outputs: [],
    }),
    async modelInfer(request) {
      calls++;
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      return {
        modelName: request.modelName,
        modelVersion: request.modelVersion,
        id: name,
        parameters: {},
        outputs: [],
        rawOutputContents: [],
      };
    },
  });
  const { address } = await server.start();
  return { server, address, calls: () => calls };
}

function endpoint(
  workerId: string,
  address: string,
  state = registry.LoadState.LOAD_STATE_READY,
): registry.WorkerEndpoint {
  return {
    workerId,
    address,
    versions: [{ model: 'fraud', version: 1, state, error: '', artifactSha256: '' }],
    labels: {},
    leaseExpiresAt: undefined,
    registeredAt: undefined,
  };
}

const request = (): inference.ModelInferRequest => ({
  modelName: 'fraud',
  modelVersion: '1',
  id: '',
  parameters: {},
  inputs: [],
  outputs: [],
  rawInputContents: [],
});

describe('replica pool', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  const pool = (): ReplicaPool => {
    const p = createReplicaPool({ ejectMs: 5_000, maxMessageBytes: 4 << 20, logger });
    cleanup.push(() => p.close());
    return p;
  };

  it('routes only to replicas reporting the exact version READY, by fewest outstanding calls', async () => {
    const a = await startWorker('a', 30);
    const b = await startWorker('b', 30);
    const c = await startWorker('c');
    cleanup.push(
      () => a.server.shutdown(),
      () => b.server.shutdown(),
      () => c.server.shutdown(),
    );
    const p = pool();
    p.sync([
      endpoint('a', a.address),
      endpoint('b', b.address),
      endpoint('c', c.address, registry.LoadState.LOAD_STATE_LOADING),
    ]);
    expect(p.readyReplicas('fraud', 1).sort()).toEqual(['a', 'b']);
    expect(p.hasReady('fraud', 2)).toBe(false);
    const answers = await Promise.all(Array.from({ length: 20 }, () => p.infer('fraud', 1, request(), {})));
    const by = (id: string) => answers.filter((x) => x.workerId === id).length;
    // Concurrent calls spread evenly: each new call goes to the replica with fewer in flight.
    expect(by('a')).toBe(10);
    expect(by('b')).toBe(10);
    expect(c.calls()).toBe(0);
    // Endpoints from router registrations are not replicas.
    p.sync([{ ...endpoint('router:x', c.address), labels: { role: 'router' } }]);
    await expect(p.infer('fraud', 1, request(), {})).rejects.toThrow(UnavailableError);
  });

  it('retries once on another replica when one is gone, then skips the dead one', async () => {
    const a = await startWorker('a');
    const b = await startWorker('b');
    cleanup.push(() => b.server.shutdown());
    const p = pool();
    p.sync([endpoint('a', a.address), endpoint('b', b.address)]);
    await Promise.all(Array.from({ length: 4 }, () => p.infer('fraud', 1, request(), {})));
    await a.server.shutdown();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => p.infer('fraud', 1, request(), {})));
    expect(outcomes.every((o) => o.workerId === 'b')).toBe(true);
    // After the first failure the dead replica is skipped, so later calls need no retry.
    const later = await p.infer('fraud', 1, request(), {});
    expect(later).toMatchObject({ workerId: 'b', attempts: 1 });
    expect(outcomes.some((o) => o.attempts === 2)).toBe(true);
  });

  it('answers UNAVAILABLE when the only replica is gone', async () => {
    const a = await startWorker('a');
    const p = pool();
    p.sync([endpoint('a', a.address)]);
    await a.server.shutdown();
    await expect(
      p.infer('fraud', 1, request(), { deadline: new Date(Date.now() + 2_000) }),
    ).rejects.toMatchObject({ code: 14 });
  });
});
