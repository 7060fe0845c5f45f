import { hostname } from 'node:os';
import { registry } from '@slipway/contracts';
import {
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
} from '@slipway/errors';
import { createClient, createLogger, type Logger } from '@slipway/service-kit';
import type { RunManifest } from './manifest.js';
import { OutputLockedError } from './output-lock.js';
import { runBatch, type BatchRunOptions } from './run.js';

/** Options of {@link startBatchWorker}. */
export interface BatchWorkerOptions {
  /**
   * Names this worker in leases and the audit log; unique per running worker. Default
   * `<hostname>-<pid>`. A worker restarted with the same id gets back the run it held.
   */
  readonly workerId?: string;
  readonly registryAddress: string;
  readonly featuresAddress: string;
  /** Where sampled predictions go; unset: none are recorded. */
  readonly monitorAddress?: string;
  /** A deployer token (claims, renewals and completions are registry mutations). */
  readonly token?: string;
  /** Verified model artifacts, by sha256. */
  readonly cacheDir: string;
  /** Lease asked for at each claim and renewal, in seconds (the registry clamps it). Default 30. */
  readonly leaseSeconds?: number;
  /** Wait between claims while nothing is due, and after a failed claim, in ms. Default 5000. */
  readonly pollMs?: number;
  /** Stop once nothing is due instead of waiting for more. Default false. */
  readonly once?: boolean;
  /** Aborting it stops the worker as {@link BatchWorker.shutdown} does. */
  readonly signal?: AbortSignal;
  /** JSON lines about claims, runs and leases. Default: a `batch-worker` logger on stdout. */
  readonly logger?: Logger;
  /** Called when a claimed run ends, however it ended. */
  readonly onRunEnd?: (outcome: BatchWorkerOutcome) => void;
}

/** How one claimed run ended for this worker. */
export interface BatchWorkerOutcome {
  readonly run: registry.BatchRun;
  /**
   * `completed`: recorded as succeeded or failed (see `manifest`); `released`: given back
   * unfinished (the worker is stopping, or the output was locked, or a service was unreachable);
   * `lost`: the lease was lost and the run stopped at a checkpoint without telling the registry.
   */
  readonly result: 'completed' | 'released' | 'lost';
  readonly manifest: RunManifest | undefined;
  readonly message: string;
}

/** A running batch worker. */
export interface BatchWorker {
  readonly workerId: string;
  /**
   * Resolves once the worker has stopped: after {@link shutdown}, when `signal` aborts, or — with
   * `once` — when nothing is due. Rejects when the registry refuses its claims for good (the
   * token is missing or lacks the deployer role, or the worker id is invalid).
   */
  readonly done: Promise<void>;
  /**
   * Stops claiming; a run in progress stops after its chunks in flight, writes its checkpoint
   * and is given back to the registry, so another worker resumes it at once. Resolves when the
   * worker has stopped. Idempotent.
   */
  shutdown(): Promise<void>;
}

const DEFAULTS = { leaseSeconds: 30, pollMs: 5000 };

/** `<hostname>-<pid>`, reduced to the characters a worker id allows. */
export function defaultWorkerId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_.:-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '') || 'batch';
  return `${host.slice(0, 100)}-${process.pid}`;
}

/**
 * Starts a batch worker: it claims due runs of the registry's batch schedules one at a time and
 * scores each with {@link runBatch} in this process (the occurrence is the prediction time, so any
 * attempt of a run writes the same bytes), renews the run's lease every third of its length while
 * it runs, and records the manifest's numbers when it ends.
 *
 * A run taken over from a worker that died resumes from that worker's checkpoint (same output
 * path, same arguments). When the lease is lost (another worker took the run over, or the
 * schedule was deleted) or cannot be renewed before it expires, the run is stopped through its
 * AbortSignal after the chunks in flight, with a checkpoint, and not completed.
 */
export function startBatchWorker(options: BatchWorkerOptions): BatchWorker {
  const workerId = options.workerId ?? defaultWorkerId();
  const leaseSeconds = options.leaseSeconds ?? DEFAULTS.leaseSeconds;
  const pollMs = options.pollMs ?? DEFAULTS.pollMs;
  if (!(leaseSeconds > 0)) throw new RangeError(`leaseSeconds ${leaseSeconds} must be positive`);
  if (!(pollMs >= 0)) throw new RangeError(`pollMs ${pollMs} must be 0 or more`);
  const logger = (options.logger ?? createLogger('batch-worker')).child({ workerId });
  const client = createClient(registry.BatchServiceService, options.registryAddress, {
    ...(options.token ? { token: options.token } : {}),
    defaultDeadlineMs: 30_000,
  });
  const stopping = new AbortController();
  const onSignal = (): void => stopping.abort();
  options.signal?.addEventListener('abort', onSignal, { once: true });
  if (options.signal?.aborted) stopping.abort();

  const done = (async () => {
    logger.info({ leaseSeconds, pollMs }, 'batch worker started');
    try {
      while (!stopping.signal.aborted) {
        let claimed: registry.ClaimBatchRunResponse;
        try {
          claimed = await client.claimBatchRun({ workerId, leaseSeconds }, { signal: stopping.signal });
        } catch (error) {
          if (stopping.signal.aborted) break;
          // Waiting would not help: a missing or weak token, or an invalid worker id.
          if (
            error instanceof UnauthenticatedError ||
            error instanceof PermissionDeniedError ||
            error instanceof InvalidArgumentError
          )
            throw error;
          // The registry being away is expected for a while (a restart): its message, no stack.
          logger.warn(
            error instanceof UnavailableError ? { err: error.message } : { err: error },
            `could not claim a batch run; trying again in ${pollMs} ms`,
          );
          await pause(pollMs, stopping.signal);
          continue;
        }
        if (!claimed.run) {
          if (options.once) break;
          await pause(pollMs, stopping.signal);
          continue;
        }
        const outcome = await execute(claimed.run, claimed.takeover);
        options.onRunEnd?.(outcome);
      }
    } finally {
      options.signal?.removeEventListener('abort', onSignal);
      client.close();
      logger.info('batch worker stopped');
    }
  })();

  /** Runs one claimed run to its end, renewing its lease meanwhile. */
  async function execute(run: registry.BatchRun, takeover: boolean): Promise<BatchWorkerOutcome> {
    const job = run.job!;
    const where = { runId: String(run.runId), schedule: run.schedule, occurrence: run.occurrenceKey };
    logger.info(
      { ...where, output: job.output, takeover, attempts: run.attempts, skipped: run.skippedOccurrences },
      takeover ? 'took over batch run' : 'claimed batch run',
    );
    const stopRun = new AbortController();
    const onStop = (): void => stopRun.abort();
    stopping.signal.addEventListener('abort', onStop, { once: true });
    let lost: string | undefined;
    const renewing = new AbortController();
    const renewals = keepLease(run, renewing.signal, (reason) => {
      lost = reason;
      stopRun.abort();
    });

    let manifest: RunManifest | undefined;
    let failure: unknown;
    try {
      manifest = await runBatch({
        ...jobOptions(job),
        // The occurrence, not the wall clock: every attempt of the run writes the same bytes.
        predictionTime: run.occurrence!,
        registryAddress: options.registryAddress,
        featuresAddress: options.featuresAddress,
        ...(options.monitorAddress ? { monitorAddress: options.monitorAddress } : {}),
        ...(options.token ? { token: options.token } : {}),
        cacheDir: options.cacheDir,
        signal: stopRun.signal,
        logger,
        onNotice: (message) => logger.info(where, message),
      });
    } catch (error) {
      failure = error;
    } finally {
      renewing.abort();
      await renewals;
      stopping.signal.removeEventListener('abort', onStop);
    }

    const end = (result: BatchWorkerOutcome['result'], message: string): BatchWorkerOutcome => ({
      run,
      result,
      manifest,
      message,
    });
    if (lost !== undefined) {
      logger.warn({ ...where, reason: lost }, 'lost the lease: the run stopped at its checkpoint');
      return end('lost', lost);
    }
    const giveBack = async (message: string): Promise<BatchWorkerOutcome> => {
      try {
        await client.releaseBatchRun({ runId: run.runId, workerId, message });
        logger.info({ ...where, reason: message }, 'gave the batch run back');
      } catch (error) {
        logger.warn({ ...where, err: error }, 'could not give the batch run back; its lease will expire');
      }
      return end('released', message);
    };
    if (failure !== undefined) {
      const message = failure instanceof Error ? failure.message : String(failure);
      // Another live run writes this output, or a service is down for now: another attempt may
      // succeed, so the run goes back to the registry instead of failing.
      if (
        failure instanceof OutputLockedError ||
        failure instanceof UnavailableError ||
        failure instanceof DeadlineExceededError
      ) {
        return giveBack(message);
      }
      return complete(run, registry.BatchRunStatus.BATCH_RUN_STATUS_FAILED, undefined, message, end);
    }
    if (manifest!.status === 'interrupted') {
      return giveBack(
        `worker "${workerId}" stopped; resume from the checkpoint after row ${manifest!.rows.read}`,
      );
    }
    const status =
      manifest!.status === 'succeeded'
        ? registry.BatchRunStatus.BATCH_RUN_STATUS_SUCCEEDED
        : registry.BatchRunStatus.BATCH_RUN_STATUS_FAILED;
    return complete(run, status, manifest, manifest!.error ?? '', end);
  }

  async function complete(
    run: registry.BatchRun,
    status: registry.BatchRunStatus,
    manifest: RunManifest | undefined,
    message: string,
    end: (result: BatchWorkerOutcome['result'], message: string) => BatchWorkerOutcome,
  ): Promise<BatchWorkerOutcome> {
    const where = { runId: String(run.runId), schedule: run.schedule, occurrence: run.occurrenceKey };
    const rows = manifest?.rows ?? { read: 0, scored: 0, rejected: 0 };
    try {
      await client.completeBatchRun({
        runId: run.runId,
        workerId,
        status,
        rowsRead: BigInt(rows.read),
        rowsScored: BigInt(rows.scored),
        rowsRejected: BigInt(rows.rejected),
        outputSha256: manifest?.output.sha256 ?? '',
        message,
      });
    } catch (error) {
      // The output is whole on disk; a worker that takes the run over writes the same bytes again.
      logger.error({ ...where, err: error }, 'could not record the end of the batch run');
      return end(error instanceof FailedPreconditionError ? 'lost' : 'completed', message);
    }
    const ok = status === registry.BatchRunStatus.BATCH_RUN_STATUS_SUCCEEDED;
    logger[ok ? 'info' : 'warn'](
      {
        ...where,
        rowsRead: rows.read,
        rowsScored: rows.scored,
        rowsRejected: rows.rejected,
        ...(ok ? {} : { reason: message }),
      },
      ok ? 'batch run succeeded' : 'batch run failed',
    );
    return end('completed', message);
  }

  /**
   * Renews the lease every third of its (granted) length until `signal` aborts. Calls `onLost`
   * when the registry refuses (the lease went to another worker, or the run was cancelled), or
   * when the lease runs out before a renewal gets through.
   */
  async function keepLease(
    run: registry.BatchRun,
    signal: AbortSignal,
    onLost: (reason: string) => void,
  ): Promise<void> {
    // The registry clamps the lease to its bounds: renew on the lease it granted, timed on this
    // host's clock (the registry's may differ), from when each request was sent.
    const requestedMs = leaseSeconds * 1000;
    const claimedAt = run.claimedAt?.getTime();
    const until = run.leaseExpiresAt?.getTime();
    const grantedMs =
      claimedAt !== undefined && until !== undefined && until > claimedAt ? until - claimedAt : requestedMs;
    const everyMs = Math.max(200, grantedMs / 3);
    let expiresAt = Date.now() + grantedMs;
    while (!signal.aborted) {
      await pause(everyMs, signal);
      if (signal.aborted) return;
      const sent = Date.now();
      try {
        await client.renewBatchRunLease(
          { runId: run.runId, workerId, leaseSeconds },
          { signal, deadline: Math.max(everyMs, expiresAt - sent) },
        );
        expiresAt = sent + grantedMs;
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof FailedPreconditionError || error instanceof NotFoundError) {
          onLost(error.message);
          return;
        }
        if (Date.now() >= expiresAt) {
          onLost(
            `the lease expired at ${new Date(expiresAt).toISOString()} before it could be renewed (${(error as Error).message})`,
          );
          return;
        }
        logger.warn({ runId: String(run.runId), err: error }, 'could not renew the lease; trying again');
      }
    }
  }

  let shutdownPromise: Promise<void> | undefined;
  return {
    workerId,
    done,
    shutdown() {
      shutdownPromise ??= (async () => {
        stopping.abort();
        await done.catch(() => undefined);
      })();
      return shutdownPromise;
    },
  };
}

/** The run options a job decides. */
export function jobOptions(
  job: registry.BatchJob,
): Omit<BatchRunOptions, 'registryAddress' | 'featuresAddress' | 'cacheDir'> {
  const mapped = Object.keys(job.entityColumns).length > 0 ? job.entityColumns : undefined;
  const entityColumns = job.entityColumn || mapped;
  return {
    deployment: job.deployment,
    ...(job.version > 0 ? { version: job.version } : {}),
    input: job.input,
    output: job.output,
    ...(entityColumns ? { entityColumns } : {}),
    ...(job.idColumn ? { idColumn: job.idColumn } : {}),
    ...(job.errorBudget === undefined ? {} : { errorBudget: job.errorBudget }),
    ...(job.batchSize > 0 ? { batchSize: job.batchSize } : {}),
    ...(job.checkpointEvery > 0 ? { checkpointEvery: job.checkpointEvery } : {}),
    ...(job.recordSample === undefined ? {} : { recordSample: job.recordSample }),
  };
}

/** Waits `ms`, or less when `signal` aborts; never rejects. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
