import type { Logger } from './logger.js';

/** Something that can be shut down: a `ServiceServer`, or a function doing the whole shutdown. */
export type ShutdownTarget =
  { shutdown(reason?: string): Promise<void> } | ((reason: string) => Promise<void>);

/** Options of {@link installSignalHandlers}; `exit` exists for tests. */
export interface SignalHandlerOptions {
  exit?: (code: number) => void;
  /**
   * The supervisor's pid (default `$SLIPWAY_SUPERVISOR_PID`, which `slipway up` sets for its
   * children): when this process's parent is no longer that process — the supervisor was killed
   * without the chance to stop its children — the process shuts down as on SIGTERM instead of
   * living on as an orphan holding its port.
   */
  supervisorPid?: number;
  /** How often the parent is checked. Default 1000 ms. */
  supervisorCheckMs?: number;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * On the first SIGTERM/SIGINT runs `target`'s shutdown and exits 0 (1 if shutdown threw); a
 * second signal exits 1 at once, for an operator who does not want to wait for the drain.
 *
 * @returns a function removing the handlers.
 */
export function installSignalHandlers(
  target: ShutdownTarget,
  logger: Logger,
  options: SignalHandlerOptions = {},
): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const shutdown = typeof target === 'function' ? target : (reason: string) => target.shutdown(reason);
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received) {
      logger.warn({ signal }, 'second signal; exiting without waiting for shutdown');
      exit(1);
      return;
    }
    received = signal;
    logger.info({ signal }, 'signal received; shutting down (send it again to force)');
    shutdown(signal).then(
      () => exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  const supervisor = options.supervisorPid ?? Number(process.env['SLIPWAY_SUPERVISOR_PID'] || 0);
  let watch: NodeJS.Timeout | undefined;
  if (supervisor > 0) {
    watch = setInterval(() => {
      if (process.ppid === supervisor || received) return;
      received = 'SIGTERM';
      logger.warn({ supervisor_pid: supervisor }, 'the supervisor is gone; shutting down');
      shutdown('supervisor gone').then(
        () => exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          exit(1);
        },
      );
    }, options.supervisorCheckMs ?? 1000);
    watch.unref();
  }
  return () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
    if (watch) clearInterval(watch);
  };
}
