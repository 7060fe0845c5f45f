import { type registry } from '@slipway/contracts';
import { ResourceExhaustedError, UnavailableError } from '@slipway/errors';
import type { ServiceImplementation } from '@slipway/service-kit';
import type { RegistryDomain, WatchSubscription } from '../domain/index.js';

type Definition = typeof registry.WatchServiceService;

/**
 * A watcher that falls this many events behind is cut off with RESOURCE_EXHAUSTED; it resumes
 * from its last revision, so nothing is lost, and a stuck client cannot grow registry memory.
 */
const MAX_PENDING_EVENTS = 50_000;

/** `slipway.registry.v1.WatchService`: the domain's watch hub as a server stream. */
export function createWatchService(domain: RegistryDomain): ServiceImplementation<Definition> {
  return {
    async *watch(req, ctx) {
      const pending: registry.WatchResponse[] = [];
      let wake: (() => void) | undefined;
      let ended: unknown = undefined;
      let closed = false;
      const notify = () => {
        wake?.();
        wake = undefined;
      };
      // Declared first: the backlog is delivered synchronously inside subscribe().
      let subscription: WatchSubscription | undefined = undefined;
      subscription = domain.watch.subscribe(
        req.fromRevision,
        (event) => {
          pending.push(event);
          if (pending.length > MAX_PENDING_EVENTS) {
            ended = new ResourceExhaustedError(
              `watcher fell more than ${MAX_PENDING_EVENTS} events behind; resume from your last revision`,
            );
            subscription?.close();
          }
          notify();
        },
        {
          onClose: (error) => {
            closed = true;
            if (error !== undefined && ended === undefined) ended = error;
            notify();
          },
        },
      );
      const onAbort = () => {
        subscription?.close();
        notify();
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        while (!ctx.signal.aborted) {
          if (pending.length > 0) {
            const batch = pending.splice(0, pending.length);
            for (const event of batch) yield event;
            continue;
          }
          if (ended !== undefined) throw ended;
          if (closed)
            throw new UnavailableError(
              'the registry is shutting down; resume the watch from your last revision',
            );
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        subscription?.close();
      }
    },
  };
}
