import { registry } from '@slipway/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRegistry, type TestRegistry } from '../testing/fixtures.js';
import { InvalidArgumentError } from '@slipway/errors';

const { LoadState } = registry;
const loaded = (version: number, state = LoadState.LOAD_STATE_READY) =>
  registry.LoadedVersion.fromPartial({ model: 'fraud', version, state, artifactSha256: 'a'.repeat(64) });

describe('endpoints', () => {
  let reg: TestRegistry;
  beforeEach(() => {
    reg = createTestRegistry();
  });
  afterEach(() => reg.cleanup());

  const beat = (extra: Partial<Parameters<TestRegistry['domain']['endpoints']['heartbeat']>[0]> = {}) =>
    reg.domain.endpoints.heartbeat({
      workerId: 'w1',
      address: '127.0.0.1:7010',
      versions: [loaded(1, LoadState.LOAD_STATE_LOADING)],
      labels: { zone: 'a' },
      ...extra,
    });

  it('registers a new worker as a change, audited, with a default 10 s lease', () => {
    const result = beat();
    expect(result).toEqual({
      leaseExpiresAt: new Date(reg.clock.now().getTime() + 10_000),
      revision: 1n,
      changed: true,
    });
    const { endpoints, revision } = reg.domain.endpoints.list();
    expect(revision).toBe(1n);
    expect(endpoints).toEqual([
      {
        workerId: 'w1',
        address: '127.0.0.1:7010',
        versions: [loaded(1, LoadState.LOAD_STATE_LOADING)],
        labels: { zone: 'a' },
        leaseExpiresAt: result.leaseExpiresAt,
        registeredAt: reg.clock.now(),
      },
    ]);
    expect(reg.domain.audit.list().map((e) => [e.action, e.target, e.actor])).toEqual([
      ['endpoint.register', 'endpoint/w1', 'worker:w1'],
    ]);
  });

  it('a refresh extends the lease without a change or an audit entry', () => {
    beat();
    reg.clock.advance(3000);
    const result = beat({ versions: [loaded(1, LoadState.LOAD_STATE_LOADING)], labels: { zone: 'a' } });
    expect(result).toEqual({
      leaseExpiresAt: new Date(reg.clock.now().getTime() + 10_000),
      revision: 1n,
      changed: false,
    });
    expect(reg.domain.endpoints.list().endpoints[0]!.leaseExpiresAt).toEqual(result.leaseExpiresAt);
    expect(reg.domain.audit.list()).toHaveLength(1);
  });

  it('writes a change when versions (set or state), labels or address change, whatever the order reported', () => {
    beat({ versions: [loaded(1), loaded(2, LoadState.LOAD_STATE_LOADING)] });
    expect(beat({ versions: [loaded(2, LoadState.LOAD_STATE_LOADING), loaded(1)] }).changed).toBe(false);
    expect(beat({ versions: [loaded(2), loaded(1)] })).toMatchObject({ changed: true, revision: 2n });
    expect(beat({ versions: [loaded(2), loaded(1)], labels: { zone: 'b' } })).toMatchObject({
      changed: true,
      revision: 3n,
    });
    expect(
      beat({ versions: [loaded(2), loaded(1)], labels: { zone: 'b' }, address: '127.0.0.1:7011' }),
    ).toMatchObject({ changed: true, revision: 4n });
    expect(beat({ versions: [loaded(1)], labels: { zone: 'b' }, address: '127.0.0.1:7011' })).toMatchObject({
      changed: true,
      revision: 5n,
    });
    expect(reg.domain.audit.list()).toHaveLength(1);
    const payload = JSON.parse(reg.domain.changes.since(4n)[0]!.payloadJson!);
    expect(registry.WorkerEndpoint.fromJSON(payload).versions).toEqual([loaded(1)]);
  });

  it('clamps the lease to [2 s, 60 s]', () => {
    const t = reg.clock.now().getTime();
    expect(beat({ ttlSeconds: 1 }).leaseExpiresAt).toEqual(new Date(t + 2000));
    expect(beat({ ttlSeconds: 3600 }).leaseExpiresAt).toEqual(new Date(t + 60_000));
    expect(beat({ ttlSeconds: 30 }).leaseExpiresAt).toEqual(new Date(t + 30_000));
  });

  it('expire() removes lapsed workers, one audited change each', () => {
    beat({ workerId: 'w1', ttlSeconds: 5 });
    beat({ workerId: 'w2', ttlSeconds: 20 });
    reg.clock.advance(5000);
    expect(reg.domain.endpoints.expire()).toEqual({ expired: ['w1'], revision: 3n });
    expect(reg.domain.endpoints.expire()).toEqual({ expired: [], revision: 3n });
    expect(reg.domain.endpoints.list().endpoints.map((e) => e.workerId)).toEqual(['w2']);
    expect(reg.domain.changes.since(2n)).toMatchObject([
      { revision: 3n, kind: 'endpoint', key: 'w1', payloadJson: null },
    ]);
    const [entry] = reg.domain.audit.list({ action: 'endpoint.expire' });
    expect(entry).toMatchObject({
      target: 'endpoint/w1',
      actor: 'registry',
      reason: 'lease expired at 2030-01-01T00:00:05.000Z',
    });
    // A worker that comes back after expiry registers anew.
    expect(beat({ workerId: 'w1' })).toMatchObject({ changed: true, revision: 4n });
    expect(reg.domain.audit.list({ action: 'endpoint.register' })).toHaveLength(3);
  });

  it('deregister() removes at once, audited, and is idempotent', () => {
    beat();
    expect(reg.domain.endpoints.deregister('w1', { actor: 'worker:w1', reason: 'shutdown' })).toEqual({
      removed: true,
      revision: 2n,
    });
    expect(reg.domain.endpoints.deregister('w1')).toEqual({ removed: false, revision: 2n });
    expect(reg.domain.endpoints.list()).toEqual({ endpoints: [], revision: 2n });
    expect(reg.domain.audit.list({ action: 'endpoint.deregister' })).toHaveLength(1);
  });

  it('refuses malformed heartbeats, listing every problem', () => {
    expect(() =>
      reg.domain.endpoints.heartbeat({
        workerId: '',
        address: 'nowhere',
        versions: [loaded(1), loaded(1), { ...loaded(0), state: LoadState.LOAD_STATE_UNSPECIFIED }],
      }),
    ).toThrow(
      new InvalidArgumentError(
        'heartbeat of worker "" is invalid (5 problems): 1) worker_id "" is invalid (use 1-128 characters of letters, digits, "_", ".", ":" or "-"); ' +
          '2) address "nowhere" is not host:port; 3) loaded version fraud@1 is reported twice; ' +
          '4) loaded version fraud@0: version must be 1 or more; 5) loaded version fraud@0: state is missing (use LOADING, READY or FAILED)',
      ),
    );
  });
});
