import { registry } from '@slipway/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRegistry, registerTestVersion, type TestRegistry } from '../testing/fixtures.js';
import type { RegistryDomain } from './index.js';

const { VariantRole: Role, StrategyKind: Kind } = registry;

const deployment = (name: string, version = 1) =>
  registry.Deployment.fromPartial({
    name,
    variants: [{ name: 'stable', model: 'fraud', version, role: Role.VARIANT_ROLE_STABLE, weight: 100 }],
    strategy: { kind: Kind.STRATEGY_KIND_DIRECT },
  });

/** An event as a short tuple: [revision, kind, key or '', 'set' | 'gone' | ''] . */
type Brief = [number, string, string, string];
function brief(e: registry.WatchResponse): Brief {
  const r = Number(e.revision);
  switch (e.event?.$case) {
    case 'deployment':
      return [
        r,
        'deployment',
        e.event.deployment.name,
        e.event.deployment.deployment ? `v${e.event.deployment.deployment.variants[0]!.version}` : 'gone',
      ];
    case 'endpoint':
      return [r, 'endpoint', e.event.endpoint.workerId, e.event.endpoint.endpoint ? 'set' : 'gone'];
    case 'synced':
      return [r, 'synced', '', ''];
    case 'reset':
      return [r, 'reset', '', ''];
    default:
      return [r, '?', '', ''];
  }
}

describe('watch hub', () => {
  let reg: TestRegistry;
  beforeEach(async () => {
    reg = createTestRegistry();
    await registerTestVersion(reg.domain, 'fraud');
    await registerTestVersion(reg.domain, 'fraud');
  });
  afterEach(() => reg.cleanup());

  const apply = (d: registry.Deployment, domain: RegistryDomain = reg.domain) =>
    domain.deployments.applyDeployment({ deployment: d, actor: 'alice' });
  const beat = (workerId: string, domain: RegistryDomain = reg.domain) =>
    domain.endpoints.heartbeat({ workerId, address: '127.0.0.1:7010', ttlSeconds: 5 });
  const watch = (from: bigint | number, domain: RegistryDomain = reg.domain) => {
    const events: Brief[] = [];
    const sub = domain.watch.subscribe(from, (e) => events.push(brief(e)));
    return { events, sub };
  };

  it('from 0 on an empty registry: synced at revision 0, then live changes', () => {
    const { events } = watch(0);
    apply(deployment('fraud'));
    expect(events).toEqual([
      [0, 'synced', '', ''],
      [1, 'deployment', 'fraud', 'v1'],
    ]);
  });

  it('from 0: a snapshot of deployments and endpoints at the current revision, synced, then live', () => {
    apply(deployment('b'));
    apply(deployment('a'));
    beat('w1');
    apply(deployment('a', 2));
    const { events, sub } = watch(0);
    expect(events).toEqual([
      [4, 'deployment', 'a', 'v2'],
      [4, 'deployment', 'b', 'v1'],
      [4, 'endpoint', 'w1', 'set'],
      [4, 'synced', '', ''],
    ]);
    events.length = 0;
    beat('w1'); // a refresh: no change, no event
    reg.domain.deployments.deleteDeployment({ name: 'b', actor: 'alice' });
    reg.domain.endpoints.deregister('w1');
    expect(events).toEqual([
      [5, 'deployment', 'b', 'gone'],
      [6, 'endpoint', 'w1', 'gone'],
    ]);
    expect(sub.revision).toBe(6n);
  });

  it('snapshot events carry full messages', () => {
    const { deployment: applied } = apply(deployment('fraud'));
    const events: registry.WatchResponse[] = [];
    reg.domain.watch.subscribe(0n, (e) => events.push(e));
    expect(events[0]).toEqual({
      revision: 1n,
      event: { $case: 'deployment', deployment: { name: 'fraud', deployment: applied } },
    });
  });

  it('from N: replays every change after N in order, synced, then live, without gap or duplicate', () => {
    apply(deployment('a'));
    beat('w1');
    apply(deployment('a', 2));
    apply(deployment('b'));
    const { events } = watch(1);
    apply(deployment('b', 2));
    expect(events).toEqual([
      [2, 'endpoint', 'w1', 'set'],
      [3, 'deployment', 'a', 'v2'],
      [4, 'deployment', 'b', 'v1'],
      [4, 'synced', '', ''],
      [5, 'deployment', 'b', 'v2'],
    ]);
  });

  it('from the current revision: only synced, then live', () => {
    apply(deployment('a'));
    const { events } = watch(1n);
    beat('w1');
    expect(events).toEqual([
      [1, 'synced', '', ''],
      [2, 'endpoint', 'w1', 'set'],
    ]);
  });

  it('from a revision newer than the registry has: reset, snapshot, synced', () => {
    apply(deployment('a'));
    const { events } = watch(42);
    expect(events).toEqual([
      [1, 'reset', '', ''],
      [1, 'deployment', 'a', 'v1'],
      [1, 'synced', '', ''],
    ]);
  });

  it('from a revision older than the retained history: reset, snapshot, synced', async () => {
    const small = createTestRegistry({ watchRetention: 3 });
    try {
      await registerTestVersion(small.domain, 'fraud');
      for (let i = 0; i < 6; i += 1) apply(deployment(`d${i}`), small.domain);
      expect(small.domain.changes.compact()).toBe(3);
      expect(small.domain.changes.since(0n).map((c) => c.revision)).toEqual([4n, 5n, 6n]);
      const old = watch(2, small.domain);
      expect(old.events[0]).toEqual([6, 'reset', '', '']);
      expect(old.events.slice(1, -1).map((e) => e[2])).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5']);
      expect(old.events.at(-1)).toEqual([6, 'synced', '', '']);
      const recent = watch(3, small.domain);
      expect(recent.events).toEqual([
        [4, 'deployment', 'd3', 'v1'],
        [5, 'deployment', 'd4', 'v1'],
        [6, 'deployment', 'd5', 'v1'],
        [6, 'synced', '', ''],
      ]);
    } finally {
      small.cleanup();
    }
  });

  it('resumes after a restart with neither a missed nor a repeated revision', () => {
    const seen: Brief[] = [];
    let last = 0n;
    reg.domain.watch.subscribe(0, (e) => {
      seen.push(brief(e));
      last = e.revision;
    });
    apply(deployment('a'));
    beat('w1');
    expect(last).toBe(2n);

    // Registry process stops; changes happen while the watcher is disconnected (next process).
    reg.restart();
    apply(deployment('a', 2));
    reg.clock.advance(10_000);
    reg.domain.endpoints.expire();
    apply(deployment('b'));

    reg.domain.watch.subscribe(last, (e) => seen.push(brief(e)));
    apply(deployment('c'));

    const changes = seen.filter((e) => e[1] === 'deployment' || e[1] === 'endpoint').map((e) => e[0]);
    expect(changes).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen).toEqual([
      [0, 'synced', '', ''],
      [1, 'deployment', 'a', 'v1'],
      [2, 'endpoint', 'w1', 'set'],
      [3, 'deployment', 'a', 'v2'],
      [4, 'endpoint', 'w1', 'gone'],
      [5, 'deployment', 'b', 'v1'],
      [5, 'synced', '', ''],
      [6, 'deployment', 'c', 'v1'],
    ]);
  });

  it('keeps counting revisions after a restart even when compaction emptied the history', () => {
    const small = createTestRegistry({ watchRetention: 1 });
    try {
      small.domain.endpoints.heartbeat({ workerId: 'w1', address: 'h:1' });
      small.domain.endpoints.deregister('w1');
      small.domain.changes.compact();
      small.restart();
      expect(small.domain.changes.currentRevision()).toBe(2n);
      expect(small.domain.endpoints.heartbeat({ workerId: 'w2', address: 'h:1' }).revision).toBe(3n);
    } finally {
      small.cleanup();
    }
  });

  it('a listener that throws loses its subscription, not the caller its commit', () => {
    const errors: unknown[] = [];
    const sub = reg.domain.watch.subscribe(
      0,
      (e) => {
        if (e.event?.$case === 'deployment') throw new Error('client gone');
      },
      { onClose: (err) => errors.push(err) },
    );
    const healthy = watch(0);
    expect(() => apply(deployment('a'))).not.toThrow();
    expect(sub.closed).toBe(true);
    expect(errors).toEqual([new Error('client gone')]);
    expect(reg.domain.watch.size).toBe(1);
    apply(deployment('b'));
    expect(healthy.events.map((e) => e[0])).toEqual([0, 1, 2]);
  });

  it('close() and shutdown() end subscriptions', () => {
    const closed: string[] = [];
    const sub = reg.domain.watch.subscribe(0, () => undefined, { onClose: () => closed.push('one') });
    reg.domain.watch.subscribe(0, () => undefined, { onClose: () => closed.push('two') });
    sub.close();
    sub.close();
    reg.domain.shutdown();
    expect(closed).toEqual(['one', 'two']);
    expect(reg.domain.watch.size).toBe(0);
  });

  it('fills gaps left by another connection from the change log', () => {
    const other = reg.openAnother();
    const { events } = watch(0);
    apply(deployment('a'), other.domain);
    beat('w9', other.domain);
    expect(events).toEqual([[0, 'synced', '', '']]);
    apply(deployment('b'));
    expect(events.map((e) => e.slice(0, 3))).toEqual([
      [0, 'synced', ''],
      [1, 'deployment', 'a'],
      [2, 'endpoint', 'w9'],
      [3, 'deployment', 'b'],
    ]);
    other.domain.deployments.deleteDeployment({ name: 'a', actor: 'x' });
    reg.domain.watch.catchUp();
    expect(events.at(-1)).toEqual([4, 'deployment', 'a', 'gone']);
  });

  it('maintain() expires leases and compacts', () => {
    const small = createTestRegistry({ watchRetention: 2 });
    try {
      for (let i = 0; i < 4; i += 1)
        small.domain.endpoints.heartbeat({ workerId: `w${i}`, address: 'h:1', ttlSeconds: 2 + i });
      small.clock.advance(3000);
      expect(small.domain.maintain()).toEqual({ expired: ['w0', 'w1'], compacted: 4 });
      expect(small.domain.changes.since(0n).map((c) => c.revision)).toEqual([5n, 6n]);
    } finally {
      small.cleanup();
    }
  });
});
