import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeTransaction } from '../db/transactions.js';
import { createTestRegistry, type TestRegistry } from '../testing/fixtures.js';
import { createChangeLog, type ChangeLog } from './change-log.js';

describe('change log', () => {
  let reg: TestRegistry;
  let log: ChangeLog;
  beforeEach(() => {
    reg = createTestRegistry();
    log = createChangeLog({ database: reg.database, now: reg.clock.now, retention: 3 });
  });
  afterEach(() => reg.cleanup());

  const add = (key: string) =>
    writeTransaction(reg.database, (tx) =>
      log.append(tx, { revision: log.nextRevision(tx), kind: 'endpoint', key, payloadJson: '{}' }),
    );

  it('assigns contiguous revisions from 1 and reads them back in order', () => {
    expect(log.currentRevision()).toBe(0n);
    expect(add('a')).toEqual({
      revision: 1n,
      kind: 'endpoint',
      key: 'a',
      payloadJson: '{}',
      time: reg.clock.now(),
    });
    add('b');
    add('c');
    expect(log.currentRevision()).toBe(3n);
    expect(log.since(1n).map((c) => [c.revision, c.key])).toEqual([
      [2n, 'b'],
      [3n, 'c'],
    ]);
  });

  it('refuses a revision that is not the next one', () => {
    add('a');
    expect(() =>
      writeTransaction(reg.database, (tx) =>
        log.append(tx, { revision: 5n, kind: 'deployment', key: 'x', payloadJson: null }),
      ),
    ).toThrow(/not the next revision 2/);
  });

  it('compacts to the retention, keeps counting, and knows what it still covers', () => {
    for (const key of ['a', 'b', 'c', 'd', 'e']) add(key);
    expect(log.compact()).toBe(2);
    expect(log.compact()).toBe(0);
    expect(log.since(0n).map((c) => c.revision)).toEqual([3n, 4n, 5n]);
    expect([1n, 2n, 3n, 5n, 9n].map((r) => log.covers(r))).toEqual([false, true, true, true, true]);
    expect(add('f').revision).toBe(6n);
  });

  it('refuses raw rewrites of a change', () => {
    add('a');
    expect(() => reg.database.sqlite.prepare("UPDATE changes SET key = 'z'").run()).toThrow(/immutable/);
  });
});
