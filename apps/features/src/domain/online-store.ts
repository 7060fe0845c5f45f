/** A raw field value: a number, a text, or null (missing). */
export type RawValue = number | string | null;

/** One event: the full state of one entity in one view at one time. */
export interface FeatureEvent {
  readonly view: string;
  readonly entityId: string;
  /** Epoch milliseconds. */
  readonly eventTimeMs: number;
  /** Aligned with the view's fields. */
  readonly values: readonly RawValue[];
}

/** A stored event as read back. */
export interface StoredValues {
  readonly eventTimeMs: number;
  /** Aligned with the view's fields. */
  readonly values: readonly RawValue[];
}

/** Which entity of which view to read. */
export interface EntityRef {
  readonly view: string;
  readonly entityId: string;
}

/** An entity of a view, read as of a time. */
export interface AsOfRef extends EntityRef {
  /** Epoch milliseconds; events after it are never returned. */
  readonly asOfMs: number;
}

/** What a batch write did. */
export interface WriteOutcome {
  /** Events added to the log. */
  readonly written: number;
  /** Events already stored with identical values; nothing was written for them. */
  readonly duplicates: number;
  /** Written events that became their entity's latest value. */
  readonly latestUpdated: number;
}

/**
 * Where feature values live: the latest value of every (view, entity) for serving, and the
 * append-only event log for point-in-time reads. SQLite implements it today
 * (`createSqliteOnlineStore`); a Redis implementation would keep the latest values in Redis.
 *
 * Contract, whatever the implementation:
 * - `write` is atomic per batch and idempotent by (view, entity, event time): an identical event
 *   again is a duplicate; a different one under the same key is `AlreadyExistsError` and nothing
 *   of the batch is written.
 * - An event never replaces a latest value with a newer event time.
 * - Reads never return a value that was replaced: no cache may outlive a write.
 * - Results are aligned with the refs; `undefined` where nothing is stored.
 */
export interface OnlineStore {
  write(events: readonly FeatureEvent[]): Promise<WriteOutcome>;
  readLatest(refs: readonly EntityRef[]): Promise<(StoredValues | undefined)[]>;
  /** The newest event with `eventTimeMs <= asOfMs` of each ref. */
  readAsOf(refs: readonly AsOfRef[]): Promise<(StoredValues | undefined)[]>;
  /** Releases the store. Idempotent. */
  close(): void;
}
