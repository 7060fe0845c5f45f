import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeTransaction } from '../db/transactions.js';
import { createTestRegistry, type TestRegistry } from '../testing/fixtures.js';
import { GENESIS_HASH, hashAuditEntry, toAuditJson } from './audit-log.js';
import { InvalidArgumentError } from '@slipway/errors';

describe('audit log', () => {
  let reg: TestRegistry;
  beforeEach(() => {
    reg = createTestRegistry();
  });
  afterEach(() => reg.cleanup());

  const appendMany = (n: number) => {
    for (let i = 1; i <= n; i += 1) {
      reg.clock.advance(1000);
      reg.domain.audit.record({
        actor: i % 2 ? 'alice' : 'bob',
        action: i % 3 ? 'deployment.apply' : 'model.register',
        target: i % 3 ? `deployment/d${i}` : `model/m@${i}`,
        before: i > 1 ? { n: i - 1 } : undefined,
        after: { n: i, big: BigInt(i) },
        reason: `step ${i}`,
        traceId: `trace-${i}`,
      });
    }
  };

  // What an attacker holding the file does first: drop the guards.
  const dropTriggers = () => {
    reg.database.sqlite.exec(
      'DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_head_forward_only;',
    );
  };

  it('chains entries: seq from 1, prev_hash links, documented canonical hash, ms timestamps', () => {
    appendMany(3);
    const entries = reg.domain.audit.list();
    expect(entries.map((e) => e.seq)).toEqual([1n, 2n, 3n]);
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    expect(entries[1]!.prevHash).toBe(entries[0]!.hash);
    expect(entries[0]!.time).toEqual(new Date('2030-01-01T00:00:01.000Z'));
    expect(entries[1]!.beforeJson).toBe('{"n":1}');
    expect(entries[1]!.afterJson).toBe('{"big":"2","n":2}');
    const raw = reg.database.sqlite.prepare('SELECT time FROM audit_log WHERE seq = 1').get() as {
      time: string;
    };
    expect(raw.time).toBe('2030-01-01T00:00:01.000Z');
    const e = entries[2]!;
    const canonical = JSON.stringify([
      'slipway.audit.v1',
      3,
      e.time!.toISOString(),
      e.actor,
      e.action,
      e.target,
      e.beforeJson,
      e.afterJson,
      e.reason,
      e.traceId,
      e.prevHash,
    ]);
    expect(e.hash).toBe(createHash('sha256').update(canonical).digest('hex'));
    expect(reg.domain.audit.verify()).toEqual({
      ok: true,
      entriesChecked: 3n,
      firstBadSeq: 0n,
      problem: '',
      headHash: e.hash,
    });
  });

  it('verifies an empty log', () => {
    expect(reg.domain.audit.verify()).toEqual({
      ok: true,
      entriesChecked: 0n,
      firstBadSeq: 0n,
      problem: '',
      headHash: GENESIS_HASH,
    });
  });

  it('lists by target prefix, action, after_seq, order and limit', () => {
    appendMany(9);
    const audit = reg.domain.audit;
    expect(audit.list({ targetPrefix: 'model/' }).map((e) => e.seq)).toEqual([3n, 6n, 9n]);
    expect(audit.list({ action: 'deployment.apply', afterSeq: 4n }).map((e) => e.seq)).toEqual([5n, 7n, 8n]);
    expect(audit.list({ descending: true, limit: 2 }).map((e) => e.seq)).toEqual([9n, 8n]);
    expect(audit.list({ targetPrefix: 'deployment/d1' }).map((e) => e.target)).toEqual(['deployment/d1']);
    expect(audit.list({ targetPrefix: 'deployment/%' })).toEqual([]);
  });

  it('appends inside the caller transaction: a rollback leaves no entry', () => {
    expect(() =>
      writeTransaction(reg.database, (tx) => {
        reg.domain.audit.append(tx, { actor: 'alice', action: 'x.y', target: 't/1' });
        throw new Error('mutation failed');
      }),
    ).toThrow('mutation failed');
    expect(reg.domain.audit.list()).toEqual([]);
    expect(reg.domain.audit.verify().ok).toBe(true);
  });

  it('refuses entries without actor, action or target', () => {
    expect(() => reg.domain.audit.record({ actor: '', action: 'a', target: 't' })).toThrow(
      InvalidArgumentError,
    );
    expect(() => reg.domain.audit.record({ actor: 'a', action: ' ', target: 't' })).toThrow(
      InvalidArgumentError,
    );
  });

  it('refuses UPDATE and DELETE through SQL while the triggers stand', () => {
    appendMany(2);
    const sqlite = reg.database.sqlite;
    expect(() => sqlite.prepare("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1").run()).toThrow(
      /append-only/,
    );
    expect(() => sqlite.prepare('DELETE FROM audit_log WHERE seq = 2').run()).toThrow(/append-only/);
    expect(() => sqlite.prepare('UPDATE audit_head SET seq = 1').run()).toThrow(/only moves forward/);
    expect(() => sqlite.prepare('DELETE FROM audit_head').run()).toThrow(/cannot be deleted/);
  });

  describe('tamper detection (triggers dropped, as by someone with the file)', () => {
    beforeEach(() => {
      appendMany(10);
      dropTriggers();
    });

    it('an edited entry', () => {
      reg.database.sqlite.prepare(`UPDATE audit_log SET after_json = '{"n":999}' WHERE seq = 4`).run();
      const result = reg.domain.audit.verify();
      expect(result).toMatchObject({ ok: false, firstBadSeq: 4n, entriesChecked: 3n });
      expect(result.problem).toMatch(/^entry 4 was altered/);
    });

    it('an edited entry whose hash was recomputed breaks the next link', () => {
      const row = reg.database.sqlite.prepare('SELECT * FROM audit_log WHERE seq = 4').get() as Record<
        string,
        string | number
      >;
      const forgedHash = hashAuditEntry({
        seq: 4,
        time: row.time as string,
        actor: 'mallory',
        action: row.action as string,
        target: row.target as string,
        beforeJson: row.before_json as string,
        afterJson: row.after_json as string,
        reason: row.reason as string,
        traceId: row.trace_id as string,
        prevHash: row.prev_hash as string,
      });
      reg.database.sqlite
        .prepare("UPDATE audit_log SET actor = 'mallory', hash = ? WHERE seq = 4")
        .run(forgedHash);
      const result = reg.domain.audit.verify();
      expect(result).toMatchObject({ ok: false, firstBadSeq: 5n });
      expect(result.problem).toMatch(/^entry 5 does not link to entry 4/);
    });

    it('a deleted entry in the middle', () => {
      reg.database.sqlite.prepare('DELETE FROM audit_log WHERE seq = 6').run();
      const result = reg.domain.audit.verify();
      expect(result).toMatchObject({ ok: false, firstBadSeq: 6n, entriesChecked: 5n });
      expect(result.problem).toBe('entry 6 is missing: the log jumps from 5 to 7 (entries were deleted)');
    });

    it('a deleted entry with later entries renumbered to hide the gap', () => {
      const sqlite = reg.database.sqlite;
      sqlite.prepare('DELETE FROM audit_log WHERE seq = 6').run();
      for (let seq = 7; seq <= 10; seq += 1)
        sqlite.prepare('UPDATE audit_log SET seq = ? WHERE seq = ?').run(seq - 1, seq);
      const result = reg.domain.audit.verify();
      expect(result).toMatchObject({ ok: false, firstBadSeq: 6n });
      expect(result.problem).toMatch(/^entry 6 does not link to entry 5/);
    });

    it('a deleted tail, caught by the head record', () => {
      reg.database.sqlite.prepare('DELETE FROM audit_log WHERE seq > 7').run();
      const result = reg.domain.audit.verify();
      expect(result).toMatchObject({ ok: false, firstBadSeq: 8n, entriesChecked: 7n });
      expect(result.problem).toBe(
        'the log ends at entry 7 but the head record says 10: entries 8..10 were removed',
      );
    });

    it('an entry inserted in the middle (later entries shifted up, forged entry hashed correctly)', () => {
      const sqlite = reg.database.sqlite;
      for (let seq = 10; seq >= 5; seq -= 1)
        sqlite.prepare('UPDATE audit_log SET seq = ? WHERE seq = ?').run(seq + 1, seq);
      const prev = sqlite.prepare('SELECT hash FROM audit_log WHERE seq = 4').get() as { hash: string };
      const forged = {
        seq: 5,
        time: '2030-01-01T00:00:04.500Z',
        actor: 'mallory',
        action: 'deployment.apply',
        target: 'deployment/d5',
        beforeJson: '',
        afterJson: '{}',
        reason: '',
        traceId: '',
        prevHash: prev.hash,
      };
      sqlite
        .prepare(
          'INSERT INTO audit_log (seq, time, actor, action, target, before_json, after_json, reason, trace_id, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
        )
        .run(...Object.values(forged), hashAuditEntry(forged));
      const result = reg.domain.audit.verify();
      expect(result).toMatchObject({ ok: false, firstBadSeq: 6n, entriesChecked: 5n });
      expect(result.problem).toMatch(/^entry 6 does not link to entry 5/);
    });

    it('an entry appended at the end without moving the head', () => {
      const sqlite = reg.database.sqlite;
      const last = sqlite.prepare('SELECT hash FROM audit_log WHERE seq = 10').get() as { hash: string };
      const forged = {
        seq: 11,
        time: '2030-01-01T00:01:00.000Z',
        actor: 'mallory',
        action: 'rollout.decision',
        target: 'deployment/d1',
        beforeJson: '',
        afterJson: '{}',
        reason: '',
        traceId: '',
        prevHash: last.hash,
      };
      sqlite
        .prepare(
          'INSERT INTO audit_log (seq, time, actor, action, target, before_json, after_json, reason, trace_id, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
        )
        .run(...Object.values(forged), hashAuditEntry(forged));
      const result = reg.domain.audit.verify();
      expect(result).toMatchObject({ ok: false, firstBadSeq: 11n, entriesChecked: 11n });
      expect(result.problem).toMatch(/^entries 11\.\.11 are past the head record/);
    });
  });
});

describe('toAuditJson', () => {
  it('sorts keys, stringifies bigint, dates and bytes, passes strings through', () => {
    expect(
      toAuditJson({
        b: 1n,
        a: new Date('2030-01-01T00:00:00Z'),
        c: Buffer.from('hi'),
        d: undefined,
        e: [1, { z: 1, y: 2 }],
      }),
    ).toBe('{"a":"2030-01-01T00:00:00.000Z","b":"1","c":"aGk=","e":[1,{"y":2,"z":1}]}');
    expect(toAuditJson('{"raw":true}')).toBe('{"raw":true}');
    expect(toAuditJson(undefined)).toBe('');
  });
});
