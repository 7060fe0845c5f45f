import { registry } from '@slipway/contracts';
import { describe, expect, it } from 'vitest';
import { describeLagging, routerProgress, waitForRouters } from './router-wait.js';

const endpoint = (workerId: string, labels: Record<string, string>) =>
  registry.WorkerEndpoint.fromPartial({ workerId, address: '127.0.0.1:8001', labels });

const router = (id: string, revision?: string) =>
  endpoint(`router:${id}`, {
    role: 'router',
    ...(revision === undefined ? {} : { deployment_revision: revision }),
  });

describe('routerProgress', () => {
  it('names the routers below the revision, ignoring workers', () => {
    const progress = routerProgress(
      [
        router('b', '7'),
        endpoint('w1', {}),
        router('a', '5'),
        router('c'),
        router('d', 'x'),
        router('e', '9'),
      ],
      7n,
    );
    expect(progress.routers.map((r) => r.id)).toEqual([
      'router:a',
      'router:b',
      'router:c',
      'router:d',
      'router:e',
    ]);
    expect(progress.lagging.map((r) => r.id)).toEqual(['router:a', 'router:c', 'router:d']);
    expect(describeLagging(progress.lagging)).toBe(
      'router:a (at 5), router:c (no revision reported), router:d (no revision reported)',
    );
  });

  it('has nothing to wait for without routers', () => {
    expect(routerProgress([endpoint('w1', { role: 'worker' })], 3n)).toEqual({ routers: [], lagging: [] });
  });
});

describe('waitForRouters', () => {
  it('returns once every router reports the revision', async () => {
    const lists = [
      [router('a', '4'), router('b', '5')],
      [router('a', '5'), router('b', '5')],
    ];
    let calls = 0;
    const result = await waitForRouters({
      list: async () => lists[Math.min(calls++, lists.length - 1)]!,
      revision: 5n,
      timeoutMs: 5_000,
      intervalMs: 1,
    });
    expect(result).toMatchObject({ timedOut: false, lagging: [] });
    expect(result.routers).toHaveLength(2);
    expect(calls).toBe(2);
  });

  it('gives up at the timeout and says who lags', async () => {
    const result = await waitForRouters({
      list: async () => [router('a', '4'), router('b', '5')],
      revision: 5n,
      timeoutMs: 30,
      intervalMs: 5,
    });
    expect(result.timedOut).toBe(true);
    expect(result.lagging.map((r) => r.id)).toEqual(['router:a']);
  });

  it('returns at once when no router is registered', async () => {
    let calls = 0;
    const result = await waitForRouters({
      list: async () => (calls++, [endpoint('w1', {})]),
      revision: 5n,
      timeoutMs: 5_000,
    });
    expect(result).toEqual({ routers: [], lagging: [], timedOut: false });
    expect(calls).toBe(1);
  });
});
