import type { registry } from '@slipway/contracts';
import type { ChangeLog, ChangeRecord } from './change-log.js';
import { changeToWatchResponse, snapshotEvents } from './mappers.js';

/** The whole watched state at one revision. */
export interface WatchSnapshot {
  revision: bigint;
  deployments: registry.Deployment[];
  endpoints: registry.WorkerEndpoint[];
}

/** Reads a consistent snapshot (one read transaction). */
export type SnapshotReader = () => WatchSnapshot;

/** Receives the events of one subscription, in revision order. */
export type WatchListener = (event: registry.WatchResponse) => void;

/** Options of {@link WatchHub.subscribe}. */
export interface SubscribeOptions {
  /** Called once when the subscription ends: `error` is what the listener threw, if it threw. */
  onClose?: (error?: unknown) => void;
}

/** One live subscription. */
export interface WatchSubscription {
  /** Stops delivery. Idempotent. */
  close(): void;
  readonly closed: boolean;
  /** Highest revision delivered so far. */
  readonly revision: bigint;
}

/** Fans committed changes out to watchers, with resumable history. */
export interface WatchHub {
  /**
   * Starts a watch with the semantics of `WatchService.Watch`:
   * - `fromRevision` 0: a snapshot (one event per deployment and per endpoint, each carrying the
   *   snapshot's revision), `synced`, then live changes;
   * - N within the retained history: every change with revision > N in order, `synced`, then live;
   * - N older than the retained history, or newer than the current revision (the registry lost
   *   data or this is another database): `reset`, then the snapshot, `synced`, live.
   * The backlog is delivered synchronously inside this call, and the subscription is registered
   * in the same synchronous section, so nothing committed in between can be missed or repeated.
   * If the listener throws during the backlog, the error propagates and nothing is registered.
   */
  subscribe(
    fromRevision: bigint | number,
    listener: WatchListener,
    options?: SubscribeOptions,
  ): WatchSubscription;
  /**
   * Delivers committed changes. The domain calls it after each commit. Changes at or below the
   * last published revision are ignored; a gap (changes committed by another connection) is
   * filled from the change log first, or, if it was compacted meanwhile, every watcher is reset.
   */
  publish(changes: readonly ChangeRecord[]): void;
  /** Publishes whatever the change log holds beyond the last published revision. */
  catchUp(): void;
  /** Live subscriptions. */
  readonly size: number;
  /** Closes every subscription. Idempotent. */
  close(): void;
}

interface Subscriber {
  listener: WatchListener;
  delivered: bigint;
  closed: boolean;
  onClose: ((error?: unknown) => void) | undefined;
}

/** Creates the hub over the change log; `readSnapshot` supplies full state for snapshots and resets. */
export function createWatchHub(changeLog: ChangeLog, readSnapshot: SnapshotReader): WatchHub {
  const subscribers = new Set<Subscriber>();
  let published = changeLog.currentRevision();

  const end = (sub: Subscriber, error?: unknown): void => {
    if (sub.closed) return;
    sub.closed = true;
    subscribers.delete(sub);
    sub.onClose?.(error);
  };

  const sendSnapshot = (deliver: WatchListener, withReset: boolean): bigint => {
    const snapshot = readSnapshot();
    if (withReset) deliver({ revision: snapshot.revision, event: { $case: 'reset', reset: {} } });
    for (const event of snapshotEvents(snapshot.revision, snapshot.deployments, snapshot.endpoints))
      deliver(event);
    deliver({ revision: snapshot.revision, event: { $case: 'synced', synced: {} } });
    return snapshot.revision;
  };

  // Delivery to live subscribers: a throwing listener ends its own subscription, never the
  // publisher's call (which runs after a commit that has already succeeded).
  const dispatch = (change: ChangeRecord): void => {
    const event = changeToWatchResponse(change);
    for (const sub of [...subscribers]) {
      if (sub.closed || change.revision <= sub.delivered) continue;
      try {
        sub.listener(event);
        sub.delivered = change.revision;
      } catch (err) {
        end(sub, err);
      }
    }
    if (change.revision > published) published = change.revision;
  };

  const resetAll = (): void => {
    for (const sub of [...subscribers]) {
      try {
        sub.delivered = sendSnapshot(sub.listener, true);
      } catch (err) {
        end(sub, err);
      }
    }
    published = changeLog.currentRevision();
  };

  const catchUpTo = (limit: bigint | undefined): void => {
    if (!changeLog.covers(published)) {
      resetAll();
      return;
    }
    for (const change of changeLog.since(published)) {
      if (limit !== undefined && change.revision >= limit) break;
      dispatch(change);
    }
  };

  return {
    subscribe(fromRevision, listener, options = {}) {
      const from = BigInt(fromRevision);
      const sub: Subscriber = { listener, delivered: 0n, closed: false, onClose: options.onClose };
      const current = changeLog.currentRevision();
      if (from <= 0n) {
        sub.delivered = sendSnapshot(listener, false);
      } else if (from > current || !changeLog.covers(from)) {
        sub.delivered = sendSnapshot(listener, true);
      } else {
        let last = from;
        for (const change of changeLog.since(from)) {
          listener(changeToWatchResponse(change));
          last = change.revision;
        }
        listener({ revision: last, event: { $case: 'synced', synced: {} } });
        sub.delivered = last;
      }
      subscribers.add(sub);
      return {
        close: () => end(sub),
        get closed() {
          return sub.closed;
        },
        get revision() {
          return sub.delivered;
        },
      };
    },

    publish(changes) {
      const ordered = [...changes].sort((a, b) =>
        a.revision < b.revision ? -1 : a.revision > b.revision ? 1 : 0,
      );
      for (const change of ordered) {
        if (change.revision <= published) continue;
        if (change.revision > published + 1n) catchUpTo(change.revision);
        if (change.revision <= published) continue;
        dispatch(change);
      }
    },

    catchUp() {
      catchUpTo(undefined);
    },

    get size() {
      return subscribers.size;
    },

    close() {
      for (const sub of [...subscribers]) end(sub);
    },
  };
}
