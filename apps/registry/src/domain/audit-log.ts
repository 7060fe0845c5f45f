import { createHash } from 'node:crypto';
import type { registry } from '@slipway/contracts';
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import type { RegistryDatabase } from '../db/open-database.js';
import { auditHead, auditLog } from '../db/schema.js';
import { writeTransaction, type Executor } from '../db/transactions.js';
import { InvalidArgumentError } from '@slipway/errors';
import { auditEntryFromRow } from './mappers.js';

/** `prev_hash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 1000;

/** One mutation to record. */
export interface AuditInput {
  /** Who did it (principal name). */
  actor: string;
  /** e.g. `model.register`, `model.alias.set`, `deployment.apply`, `rollout.decision`. */
  action: string;
  /** e.g. `model/fraud@7`, `deployment/fraud`. */
  target: string;
  /** State before; a string is stored as given, anything else as canonical JSON; omitted = "". */
  before?: unknown;
  /** State after; as `before`. */
  after?: unknown;
  reason?: string;
  traceId?: string;
}

/** Filters of {@link AuditLog.list}; the fields of `ListAuditEntriesRequest`. */
export interface AuditQuery {
  /** Entries whose target starts with this prefix, e.g. `model/fraud`. */
  targetPrefix?: string;
  /** Entries with exactly this action. */
  action?: string;
  /** Entries with seq greater than this. */
  afterSeq?: number | bigint;
  /** Newest first when true. */
  descending?: boolean;
  /** Default 100, at most 1000. */
  limit?: number;
}

/** The append-only, hash-chained audit log. */
export interface AuditLog {
  /**
   * Appends an entry inside the caller's write transaction (so the entry commits or rolls back
   * with the mutation it records). The transaction must be a {@link writeTransaction}.
   */
  append(tx: Executor, input: AuditInput): registry.AuditEntry;
  /** Appends an entry in its own durable transaction (decisions taken elsewhere, e.g. the monitor). */
  record(input: AuditInput): registry.AuditEntry;
  /** Entries matching `query`, by seq. */
  list(query?: AuditQuery): registry.AuditEntry[];
  /** Recomputes the whole chain; see {@link verifyAuditChain}. */
  verify(): registry.VerifyAuditLogResponse;
}

/** Options of {@link createAuditLog}. */
export interface AuditLogOptions {
  database: RegistryDatabase;
  now: () => Date;
}

/**
 * The fields an entry's hash covers, in order.
 *
 * Canonical form: `hash = lowercase hex SHA-256 of the UTF-8 bytes of
 * JSON.stringify(["slipway.audit.v1", seq, time, actor, action, target, before_json, after_json,
 * reason, trace_id, prev_hash])`, where `seq` is a JSON number and every other element is the
 * stored string exactly (`time` is ISO-8601 UTC with milliseconds, e.g. `2026-01-02T03:04:05.678Z`;
 * absent values are ""). JSON.stringify of an array of strings and integers is fully specified
 * by ECMA-262, so any language can recompute it: no key order or whitespace question arises.
 * The first entry's prev_hash is 64 zeros ({@link GENESIS_HASH}).
 */
export interface HashedFields {
  seq: number;
  time: string;
  actor: string;
  action: string;
  target: string;
  beforeJson: string;
  afterJson: string;
  reason: string;
  traceId: string;
  prevHash: string;
}

/** The hash of an entry; see {@link HashedFields} for the canonical form. */
export function hashAuditEntry(fields: HashedFields): string {
  const canonical = JSON.stringify([
    'slipway.audit.v1',
    fields.seq,
    fields.time,
    fields.actor,
    fields.action,
    fields.target,
    fields.beforeJson,
    fields.afterJson,
    fields.reason,
    fields.traceId,
    fields.prevHash,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/**
 * Canonical JSON for before/after documents: object keys sorted, bigint as a decimal string,
 * Date as ISO-8601, bytes as base64, undefined members dropped. Strings pass through unchanged.
 */
export function toAuditJson(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(canonicalize(value));
}

function canonicalize(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : canonicalize(item)));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) out[key] = canonicalize(member);
    }
    return out;
  }
  return value;
}

/** Creates the audit log over the registry database. */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { database, now } = options;

  const append = (tx: Executor, input: AuditInput): registry.AuditEntry => {
    if (input.actor.trim() === '')
      throw new InvalidArgumentError('an audit entry needs an actor (the authenticated principal)');
    if (input.action.trim() === '')
      throw new InvalidArgumentError('an audit entry needs an action, e.g. "rollout.decision"');
    if (input.target.trim() === '')
      throw new InvalidArgumentError('an audit entry needs a target, e.g. "deployment/fraud"');
    const head = tx.select().from(auditHead).where(eq(auditHead.id, 1)).get();
    if (!head)
      throw new Error('audit_head row is missing: the database was not migrated or was tampered with');
    const fields: HashedFields = {
      seq: head.seq + 1,
      time: now().toISOString(),
      actor: input.actor,
      action: input.action,
      target: input.target,
      beforeJson: toAuditJson(input.before),
      afterJson: toAuditJson(input.after),
      reason: input.reason ?? '',
      traceId: input.traceId ?? '',
      prevHash: head.hash,
    };
    const row = { ...fields, hash: hashAuditEntry(fields) };
    tx.insert(auditLog).values(row).run();
    tx.update(auditHead).set({ seq: row.seq, hash: row.hash }).where(eq(auditHead.id, 1)).run();
    return auditEntryFromRow(row);
  };

  return {
    append,
    record(input) {
      return writeTransaction(database, (tx) => append(tx, input), { durable: true });
    },
    list(query = {}) {
      const limit = Math.min(
        Math.max(1, Math.trunc(query.limit ?? DEFAULT_LIST_LIMIT) || DEFAULT_LIST_LIMIT),
        MAX_LIST_LIMIT,
      );
      const conditions = [];
      if (query.targetPrefix) {
        // substr equality, not LIKE: a prefix may contain % or _.
        conditions.push(
          sql`substr(${auditLog.target}, 1, ${query.targetPrefix.length}) = ${query.targetPrefix}`,
        );
      }
      if (query.action) conditions.push(eq(auditLog.action, query.action));
      if (query.afterSeq !== undefined && BigInt(query.afterSeq) > 0n)
        conditions.push(gt(auditLog.seq, Number(query.afterSeq)));
      const rows = database.db
        .select()
        .from(auditLog)
        .where(and(...conditions))
        .orderBy(query.descending ? desc(auditLog.seq) : asc(auditLog.seq))
        .limit(limit)
        .all();
      return rows.map(auditEntryFromRow);
    },
    verify() {
      return verifyAuditChain(database);
    },
  };
}

interface RawAuditRow {
  seq: number;
  time: string;
  actor: string;
  action: string;
  target: string;
  before_json: string;
  after_json: string;
  reason: string;
  trace_id: string;
  prev_hash: string;
  hash: string;
}

/**
 * Walks the log in seq order and reports the first entry that does not fit the chain:
 * - an edited entry: its content no longer hashes to its stored hash;
 * - a deleted entry: a gap in seq (the missing seq is reported);
 * - an inserted or re-hashed entry: the next entry's prev_hash no longer links to it;
 * - a deleted tail: the log ends before the head record (`audit_head`, updated in the same
 *   transaction as every append);
 * - entries appended without the registry: the log runs past the head record.
 *
 * Limits: the chain has no secret, so someone with write access to the file who rewrites every
 * entry from the tampered one onwards AND the head record produces a valid-looking log. Compare
 * the returned `headHash` with a copy kept elsewhere (logs, the monitor) to catch that.
 */
export function verifyAuditChain(
  database: Pick<RegistryDatabase, 'sqlite'>,
): registry.VerifyAuditLogResponse {
  const { sqlite } = database;
  const run = sqlite.transaction((): registry.VerifyAuditLogResponse => {
    const head = sqlite.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as
      { seq: number; hash: string } | undefined;
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    let checked = 0;
    const bad = (seq: number, problem: string): registry.VerifyAuditLogResponse => ({
      ok: false,
      entriesChecked: BigInt(checked),
      firstBadSeq: BigInt(seq),
      problem,
      headHash: head?.hash ?? '',
    });
    for (const row of sqlite
      .prepare('SELECT * FROM audit_log ORDER BY seq')
      .iterate() as IterableIterator<RawAuditRow>) {
      if (row.seq !== expectedSeq) {
        return row.seq > expectedSeq
          ? bad(
              expectedSeq,
              `entry ${expectedSeq} is missing: the log jumps from ${expectedSeq - 1} to ${row.seq} (entries were deleted)`,
            )
          : bad(
              row.seq,
              `entry ${row.seq} is out of sequence: expected ${expectedSeq} (an entry was inserted)`,
            );
      }
      if (row.prev_hash !== prevHash) {
        return bad(
          row.seq,
          `entry ${row.seq} does not link to entry ${row.seq - 1}: its prev_hash is ${row.prev_hash} but entry ${row.seq - 1} hashes to ${prevHash} (an entry before it was inserted, removed or rewritten)`,
        );
      }
      const recomputed = hashAuditEntry({
        seq: row.seq,
        time: row.time,
        actor: row.actor,
        action: row.action,
        target: row.target,
        beforeJson: row.before_json,
        afterJson: row.after_json,
        reason: row.reason,
        traceId: row.trace_id,
        prevHash: row.prev_hash,
      });
      if (recomputed !== row.hash) {
        return bad(
          row.seq,
          `entry ${row.seq} was altered: its content hashes to ${recomputed}, not to its stored hash ${row.hash}`,
        );
      }
      prevHash = row.hash;
      expectedSeq += 1;
      checked += 1;
    }
    const lastSeq = expectedSeq - 1;
    if (!head) return bad(lastSeq + 1, 'the audit head record is missing (the database was tampered with)');
    if (lastSeq < head.seq) {
      return bad(
        lastSeq + 1,
        `the log ends at entry ${lastSeq} but the head record says ${head.seq}: entries ${lastSeq + 1}..${head.seq} were removed`,
      );
    }
    if (lastSeq > head.seq) {
      return bad(
        head.seq + 1,
        `entries ${head.seq + 1}..${lastSeq} are past the head record (${head.seq}): they were appended outside the registry`,
      );
    }
    if (head.hash !== prevHash) {
      return bad(
        lastSeq,
        `entry ${lastSeq} hashes to ${prevHash} but the head record holds ${head.hash} (the log or its head was rewritten)`,
      );
    }
    return { ok: true, entriesChecked: BigInt(checked), firstBadSeq: 0n, problem: '', headHash: prevHash };
  });
  return run.deferred();
}
