import { registry } from '@slipway/contracts';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from '@slipway/errors';
import { and, asc, desc, eq, inArray, isNull, lte, max, or, sql } from 'drizzle-orm';
import type { RegistryDatabase } from '../db/open-database.js';
import { batchRuns, batchSchedules, deployments } from '../db/schema.js';
import { readTransaction, writeTransaction, type Executor } from '../db/transactions.js';
import type { AuditLog } from './audit-log.js';
import { parseCron, type CronSchedule } from './cron.js';
import { DEFAULT_LEASE_BOUNDS, type LeaseBounds } from './endpoints.js';
import { batchJobFromJson, batchJobToJson, batchRunFromRow, occurrenceKey } from './mappers.js';
import { resourceNameProblem, workerIdProblem } from './names.js';
import { invalidArgument } from './problems.js';

/** The placeholder of a schedule's output (and input) path, replaced by e.g. `20261127T0200Z`. */
export const OCCURRENCE_PLACEHOLDER = '{occurrence}';

const MAX_BATCH_SIZE = 65_536;
const DEFAULT_RUN_LIMIT = 50;
const MAX_RUN_LIMIT = 1000;
/** Skipped occurrences are counted up to this many (a per-minute schedule down for a month). */
const MAX_SKIPPED_COUNT = 10_000;

type ScheduleRow = typeof batchSchedules.$inferSelect;
type RunRow = typeof batchRuns.$inferSelect;
type RunStatus = RunRow['status'];
const { BatchRunStatus } = registry;

/** Who asks, for the audit log. */
export interface BatchAuditContext {
  actor: string;
  traceId?: string;
  reason?: string;
}

/** `CreateBatchScheduleRequest` plus who asks. */
export interface CreateBatchScheduleInput extends BatchAuditContext {
  name: string;
  cron: string;
  job: registry.BatchJob;
  /** Occurrences before this time are never run. Default: now. */
  startAt?: Date;
  paused?: boolean;
}

/** `ClaimBatchRunRequest` plus who asks. */
export interface ClaimBatchRunInput extends BatchAuditContext {
  workerId: string;
  /** Clamped to the lease bounds; 0 or unset = the default. */
  leaseSeconds?: number;
}

/** What a claim hands out. */
export interface ClaimedBatchRun {
  /** Undefined when nothing is due. */
  run: registry.BatchRun | undefined;
  /** The run was started before (by another worker, or by this one before a restart). */
  takeover: boolean;
}

/** `CompleteBatchRunRequest` plus who asks. */
export interface CompleteBatchRunInput extends BatchAuditContext {
  runId: bigint | number;
  workerId: string;
  status: registry.BatchRunStatus;
  rowsRead?: bigint | number;
  rowsScored?: bigint | number;
  rowsRejected?: bigint | number;
  outputSha256?: string;
  message?: string;
}

/**
 * Batch schedules and their runs, handed to batch workers under leases.
 *
 * Occurrences become runs lazily: a claim inserts the row of the occurrence it hands out, in a
 * `BEGIN IMMEDIATE` transaction, and SQLite's unique index on (schedule, occurrence) makes a second
 * row for the same occurrence impossible, whatever process holds the database. Missed occurrences
 * are not replayed: when several occurrences passed since a schedule's last run (workers were down,
 * the schedule was paused), only the latest is run and the run records how many it skipped.
 * Leases expire lazily: a run whose lease has expired stays with its holder (who may renew or
 * complete it) until another claim takes it over.
 */
export interface BatchSchedules {
  /** Creates a schedule; audited. */
  create(input: CreateBatchScheduleInput): registry.BatchSchedule;
  /** Live schedules by name, with their next occurrence and last run. */
  list(): registry.BatchSchedule[];
  /** Deletes a schedule and cancels its unfinished runs; audited. */
  remove(name: string, context: BatchAuditContext): { cancelledRuns: number };
  /** Pauses or resumes a schedule; audited when it changes. */
  setPaused(name: string, paused: boolean, context: BatchAuditContext): registry.BatchSchedule;
  /** The oldest due work for `workerId`, under a lease; see the interface's description. */
  claim(input: ClaimBatchRunInput): ClaimedBatchRun;
  /** Extends the holder's lease; FailedPreconditionError when it was lost. Not audited. */
  renew(input: { runId: bigint | number; workerId: string; leaseSeconds?: number }): { leaseExpiresAt: Date };
  /** Records how the holder's run ended; audited. Repeating the same completion is harmless. */
  complete(input: CompleteBatchRunInput): registry.BatchRun;
  /** Gives the holder's run back unfinished, for the next claim to resume; audited. */
  release(
    input: { runId: bigint | number; workerId: string; message?: string } & BatchAuditContext,
  ): registry.BatchRun;
  /** Runs, newest occurrence first, of the schedules named `schedule` (deleted ones included). */
  listRuns(query?: { schedule?: string; limit?: number }): registry.BatchRun[];
}

/** Options of {@link createBatchSchedules}. */
export interface BatchSchedulesOptions {
  database: RegistryDatabase;
  audit: AuditLog;
  now: () => Date;
  /** Lease bounds of runs (the same as worker heartbeats'). */
  lease?: Partial<LeaseBounds>;
}

/** Creates the batch schedules module. */
export function createBatchSchedules(options: BatchSchedulesOptions): BatchSchedules {
  const { database, audit, now } = options;
  const bounds = { ...DEFAULT_LEASE_BOUNDS, ...options.lease };
  const crons = new Map<string, CronSchedule>();
  const cronOf = (expression: string): CronSchedule => {
    let cron = crons.get(expression);
    if (!cron) {
      cron = parseCron(expression);
      crons.set(expression, cron);
    }
    return cron;
  };
  const leaseUntil = (time: Date, seconds: number | undefined): Date => {
    const requested = seconds && seconds > 0 ? seconds : bounds.defaultSeconds;
    const ttl = Math.min(Math.max(requested, bounds.minSeconds), bounds.maxSeconds);
    return new Date(time.getTime() + ttl * 1000);
  };

  const liveSchedule = (tx: Executor, name: string): ScheduleRow | undefined =>
    tx
      .select()
      .from(batchSchedules)
      .where(and(eq(batchSchedules.name, name), isNull(batchSchedules.deletedAt)))
      .get();
  const requireSchedule = (tx: Executor, name: string): ScheduleRow => {
    const row = liveSchedule(tx, name);
    if (!row) throw new NotFoundError(`batch schedule "${name}" does not exist`);
    return row;
  };
  const lastOccurrence = (tx: Executor, scheduleId: number): string | undefined =>
    tx
      .select({ last: max(batchRuns.occurrence) })
      .from(batchRuns)
      .where(eq(batchRuns.scheduleId, scheduleId))
      .get()?.last ?? undefined;
  const lastRun = (tx: Executor, scheduleId: number): RunRow | undefined =>
    tx
      .select()
      .from(batchRuns)
      .where(eq(batchRuns.scheduleId, scheduleId))
      .orderBy(desc(batchRuns.occurrence))
      .limit(1)
      .get();

  /** The latest occurrence of `row` due at `time` and not yet run, if any. */
  const dueOccurrence = (row: ScheduleRow, last: string | undefined, time: Date): Date | undefined => {
    const latest = cronOf(row.cron).previous(time);
    if (!latest || latest.toISOString() < row.startAt) return undefined;
    if (last !== undefined && latest.toISOString() <= last) return undefined;
    return latest;
  };

  const scheduleMessage = (tx: Executor, row: ScheduleRow, time: Date): registry.BatchSchedule => {
    const last = lastRun(tx, row.id);
    let nextOccurrence: Date | undefined;
    if (!row.paused) {
      nextOccurrence = dueOccurrence(row, last?.occurrence, time);
      if (!nextOccurrence) {
        const floor = Math.max(
          time.getTime(),
          new Date(row.startAt).getTime() - 1,
          last ? new Date(last.occurrence).getTime() : 0,
        );
        nextOccurrence = cronOf(row.cron).next(new Date(floor));
      }
    }
    return {
      name: row.name,
      cron: row.cron,
      job: batchJobFromJson(row.jobJson),
      paused: row.paused,
      startAt: new Date(row.startAt),
      createdAt: new Date(row.createdAt),
      createdBy: row.createdBy,
      nextOccurrence,
      lastRun: last ? batchRunFromRow(last) : undefined,
    };
  };

  const getRun = (tx: Executor, runId: bigint | number): RunRow => {
    const id = Number(runId);
    const row = Number.isSafeInteger(id)
      ? tx.select().from(batchRuns).where(eq(batchRuns.id, id)).get()
      : undefined;
    if (!row) throw new NotFoundError(`batch run ${runId} does not exist`);
    return row;
  };
  const runTarget = (row: Pick<RunRow, 'schedule' | 'occurrence'>): string =>
    `batch-run/${row.schedule}@${occurrenceKey(new Date(row.occurrence))}`;
  /** Refuses unless `workerId` holds `row`; the message says what happened to the lease. */
  const requireHolder = (row: RunRow, workerId: string): void => {
    if (row.status === 'running' && row.workerId === workerId) return;
    const run = `batch run ${row.id} (${row.schedule}@${occurrenceKey(new Date(row.occurrence))})`;
    const lost = `worker "${workerId}" does not hold the lease on ${run}`;
    const why: Record<RunStatus, string> = {
      running: `worker "${row.workerId}" took it over at ${row.claimedAt}`,
      pending: 'it was given back and waits for the next claim',
      succeeded: `it has ended (succeeded at ${row.finishedAt ?? '?'})`,
      failed: `it has ended (failed at ${row.finishedAt ?? '?'})`,
      cancelled: `it was cancelled: ${row.message}`,
    };
    throw new FailedPreconditionError(`${lost}: ${why[row.status]}; stop working on it`);
  };

  return {
    create(input) {
      const job = registry.BatchJob.fromPartial(input.job);
      const problems: string[] = [];
      const nameProblem = resourceNameProblem('schedule', input.name);
      if (nameProblem) problems.push(nameProblem);
      let cronProblem: string | undefined;
      try {
        parseCron(input.cron);
      } catch (error) {
        if (!(error instanceof InvalidArgumentError)) throw error;
        cronProblem = error.message;
      }
      if (cronProblem) problems.push(cronProblem);
      problems.push(...jobProblems(job));
      if (input.startAt && Number.isNaN(input.startAt.getTime()))
        problems.push('start_at is not a valid time');
      if (problems.length > 0) throw invalidArgument(`batch schedule "${input.name}" is invalid`, problems);

      const time = now();
      const startAt = input.startAt ?? time;
      return writeTransaction(
        database,
        (tx) => {
          if (liveSchedule(tx, input.name)) {
            throw new AlreadyExistsError(
              `batch schedule "${input.name}" already exists; delete it first or choose another name`,
            );
          }
          const deployment = tx
            .select({ name: deployments.name })
            .from(deployments)
            .where(eq(deployments.name, job.deployment))
            .get();
          if (!deployment) {
            throw new NotFoundError(
              `deployment "${job.deployment}" does not exist; deploy a model to it before scheduling its batch runs`,
            );
          }
          const row = tx
            .insert(batchSchedules)
            .values({
              name: input.name,
              cron: input.cron.trim(),
              jobJson: batchJobToJson(job),
              paused: input.paused ?? false,
              startAt: startAt.toISOString(),
              createdAt: time.toISOString(),
              createdBy: input.actor,
              updatedAt: time.toISOString(),
            })
            .returning()
            .get();
          const schedule = scheduleMessage(tx, row, time);
          audit.append(tx, {
            actor: input.actor,
            action: 'batch.schedule.create',
            target: `batch-schedule/${row.name}`,
            after: registry.BatchSchedule.toJSON({ ...schedule, nextOccurrence: undefined }),
            reason: input.reason,
            traceId: input.traceId,
          });
          return schedule;
        },
        { durable: true },
      );
    },

    list() {
      const time = now();
      return readTransaction(database, (tx) =>
        tx
          .select()
          .from(batchSchedules)
          .where(isNull(batchSchedules.deletedAt))
          .orderBy(asc(batchSchedules.name))
          .all()
          .map((row) => scheduleMessage(tx, row, time)),
      );
    },

    remove(name, context) {
      const time = now().toISOString();
      return writeTransaction(
        database,
        (tx) => {
          const row = requireSchedule(tx, name);
          const before = scheduleMessage(tx, row, new Date(time));
          tx.update(batchSchedules)
            .set({ deletedAt: time, updatedAt: time })
            .where(eq(batchSchedules.id, row.id))
            .run();
          const cancelled = tx
            .update(batchRuns)
            .set({
              status: 'cancelled',
              finishedAt: time,
              leaseExpiresAt: null,
              message: `its schedule "${name}" was deleted by ${context.actor}`,
            })
            .where(and(eq(batchRuns.scheduleId, row.id), inArray(batchRuns.status, ['pending', 'running'])))
            .returning({ id: batchRuns.id })
            .all();
          audit.append(tx, {
            actor: context.actor,
            action: 'batch.schedule.delete',
            target: `batch-schedule/${name}`,
            before: registry.BatchSchedule.toJSON({ ...before, nextOccurrence: undefined }),
            after: { cancelledRuns: cancelled.map((r) => r.id) },
            reason: context.reason,
            traceId: context.traceId,
          });
          return { cancelledRuns: cancelled.length };
        },
        { durable: true },
      );
    },

    setPaused(name, paused, context) {
      const time = now();
      return writeTransaction(
        database,
        (tx) => {
          const row = requireSchedule(tx, name);
          if (row.paused === paused) return scheduleMessage(tx, row, time);
          tx.update(batchSchedules)
            .set({ paused, updatedAt: time.toISOString() })
            .where(eq(batchSchedules.id, row.id))
            .run();
          audit.append(tx, {
            actor: context.actor,
            action: paused ? 'batch.schedule.pause' : 'batch.schedule.resume',
            target: `batch-schedule/${name}`,
            reason: context.reason,
            traceId: context.traceId,
          });
          return scheduleMessage(tx, { ...row, paused }, time);
        },
        { durable: true },
      );
    },

    claim(input) {
      const workerProblem = workerIdProblem(input.workerId);
      if (workerProblem) throw new InvalidArgumentError(`ClaimBatchRun: ${workerProblem}`);
      const time = now();
      const at = time.toISOString();
      const leaseExpiresAt = leaseUntil(time, input.leaseSeconds).toISOString();
      const audited = { actor: input.actor, traceId: input.traceId };

      const resume = (tx: Executor, row: RunRow, reason: string): ClaimedBatchRun => {
        const updated = tx
          .update(batchRuns)
          .set({
            status: 'running',
            workerId: input.workerId,
            leaseExpiresAt,
            attempts: row.attempts + 1,
            claimedAt: at,
          })
          .where(eq(batchRuns.id, row.id))
          .returning()
          .get();
        const run = batchRunFromRow(updated);
        audit.append(tx, {
          ...audited,
          action: 'batch.run.takeover',
          target: runTarget(row),
          before: { status: row.status, workerId: row.workerId, leaseExpiresAt: row.leaseExpiresAt },
          after: registry.BatchRun.toJSON(run),
          reason,
        });
        return { run, takeover: true };
      };

      return writeTransaction(
        database,
        (tx): ClaimedBatchRun => {
          // 1. A run this worker holds already (it restarted, or a response was lost).
          const own = tx
            .select()
            .from(batchRuns)
            .where(and(eq(batchRuns.status, 'running'), eq(batchRuns.workerId, input.workerId)))
            .orderBy(asc(batchRuns.occurrence), asc(batchRuns.id))
            .limit(1)
            .get();
          if (own) return resume(tx, own, `worker "${input.workerId}" claimed again the run it held`);

          // 2. The oldest run given back, or whose holder's lease expired, of a live schedule.
          const orphan = tx
            .select({ run: batchRuns })
            .from(batchRuns)
            .innerJoin(batchSchedules, eq(batchSchedules.id, batchRuns.scheduleId))
            .where(
              and(
                isNull(batchSchedules.deletedAt),
                or(
                  eq(batchRuns.status, 'pending'),
                  and(eq(batchRuns.status, 'running'), lte(batchRuns.leaseExpiresAt, at)),
                ),
              ),
            )
            .orderBy(asc(batchRuns.occurrence), asc(batchRuns.id))
            .limit(1)
            .get()?.run;

          // 3. The oldest latest-due occurrence of an active schedule.
          let fresh: { schedule: ScheduleRow; occurrence: Date; last: string | undefined } | undefined;
          const active = tx
            .select()
            .from(batchSchedules)
            .where(and(isNull(batchSchedules.deletedAt), eq(batchSchedules.paused, false)))
            .orderBy(asc(batchSchedules.id))
            .all();
          for (const schedule of active) {
            const last = lastOccurrence(tx, schedule.id);
            const occurrence = dueOccurrence(schedule, last, time);
            if (occurrence && (!fresh || occurrence < fresh.occurrence))
              fresh = { schedule, occurrence, last };
          }

          if (orphan && (!fresh || orphan.occurrence <= fresh.occurrence.toISOString())) {
            const reason =
              orphan.status === 'pending'
                ? `resumed after it was given back${orphan.message ? ` (${orphan.message})` : ''}`
                : `the lease of worker "${orphan.workerId}" expired at ${orphan.leaseExpiresAt}`;
            return resume(tx, orphan, reason);
          }
          if (!fresh) return { run: undefined, takeover: false };

          const { schedule, occurrence, last } = fresh;
          const skipped = countSkipped(
            cronOf(schedule.cron),
            last === undefined ? new Date(new Date(schedule.startAt).getTime() - 1) : new Date(last),
            occurrence,
          );
          const key = occurrenceKey(occurrence);
          const template = batchJobFromJson(schedule.jobJson);
          const job: registry.BatchJob = {
            ...template,
            input: template.input.replaceAll(OCCURRENCE_PLACEHOLDER, key),
            output: template.output.replaceAll(OCCURRENCE_PLACEHOLDER, key),
          };
          // The unique index on (schedule_id, occurrence) refuses a second row for this occurrence.
          const row = tx
            .insert(batchRuns)
            .values({
              scheduleId: schedule.id,
              schedule: schedule.name,
              occurrence: occurrence.toISOString(),
              status: 'running',
              jobJson: batchJobToJson(job),
              workerId: input.workerId,
              leaseExpiresAt,
              attempts: 1,
              skippedOccurrences: skipped,
              createdAt: at,
              claimedAt: at,
            })
            .returning()
            .get();
          const run = batchRunFromRow(row);
          audit.append(tx, {
            ...audited,
            action: 'batch.run.claim',
            target: runTarget(row),
            after: registry.BatchRun.toJSON(run),
            reason:
              skipped > 0
                ? `${skipped}${skipped >= MAX_SKIPPED_COUNT ? '+' : ''} earlier occurrence${skipped === 1 ? ' was' : 's were'} missed and skipped`
                : '',
          });
          return { run, takeover: false };
        },
        { durable: true },
      );
    },

    renew(input) {
      const time = now();
      const leaseExpiresAt = leaseUntil(time, input.leaseSeconds);
      // Renewals are frequent and repeated within seconds: not audited, not synced to disk.
      writeTransaction(database, (tx) => {
        const row = getRun(tx, input.runId);
        requireHolder(row, input.workerId);
        tx.update(batchRuns)
          .set({ leaseExpiresAt: leaseExpiresAt.toISOString() })
          .where(eq(batchRuns.id, row.id))
          .run();
      });
      return { leaseExpiresAt };
    },

    complete(input) {
      const status =
        input.status === BatchRunStatus.BATCH_RUN_STATUS_SUCCEEDED
          ? 'succeeded'
          : input.status === BatchRunStatus.BATCH_RUN_STATUS_FAILED
            ? 'failed'
            : undefined;
      const problems: string[] = [];
      if (!status) problems.push('status must be SUCCEEDED or FAILED');
      const sha = input.outputSha256 ?? '';
      if (sha !== '' && !/^[0-9a-f]{64}$/.test(sha))
        problems.push(`output_sha256 "${sha}" is not 64 lowercase hex digits`);
      const counts = {
        rowsRead: Number(input.rowsRead ?? 0),
        rowsScored: Number(input.rowsScored ?? 0),
        rowsRejected: Number(input.rowsRejected ?? 0),
      };
      for (const [key, value] of Object.entries(counts))
        if (!Number.isSafeInteger(value) || value < 0) problems.push(`${key} ${value} is not a row count`);
      if (problems.length > 0) throw invalidArgument(`CompleteBatchRun of run ${input.runId}`, problems);
      const time = now().toISOString();
      return writeTransaction(
        database,
        (tx) => {
          const row = getRun(tx, input.runId);
          // A repeated completion (a retry after a lost response) answers the same.
          if (row.status === status && row.workerId === input.workerId) return batchRunFromRow(row);
          requireHolder(row, input.workerId);
          const updated = tx
            .update(batchRuns)
            .set({
              status: status!,
              finishedAt: time,
              leaseExpiresAt: null,
              ...counts,
              outputSha256: sha,
              message: input.message ?? '',
            })
            .where(eq(batchRuns.id, row.id))
            .returning()
            .get();
          const run = batchRunFromRow(updated);
          audit.append(tx, {
            actor: input.actor,
            action: 'batch.run.complete',
            target: runTarget(row),
            after: {
              status: status!,
              workerId: input.workerId,
              ...counts,
              outputSha256: sha,
              output: run.job?.output ?? '',
              attempts: row.attempts,
            },
            reason: input.message,
            traceId: input.traceId,
          });
          return run;
        },
        { durable: true },
      );
    },

    release(input) {
      return writeTransaction(
        database,
        (tx) => {
          const row = getRun(tx, input.runId);
          requireHolder(row, input.workerId);
          const updated = tx
            .update(batchRuns)
            .set({ status: 'pending', leaseExpiresAt: null, message: input.message ?? '' })
            .where(eq(batchRuns.id, row.id))
            .returning()
            .get();
          audit.append(tx, {
            actor: input.actor,
            action: 'batch.run.release',
            target: runTarget(row),
            before: { status: row.status, workerId: row.workerId },
            reason: input.message,
            traceId: input.traceId,
          });
          return batchRunFromRow(updated);
        },
        { durable: true },
      );
    },

    listRuns(query = {}) {
      const limit = Math.min(
        Math.max(1, Math.trunc(query.limit ?? DEFAULT_RUN_LIMIT) || DEFAULT_RUN_LIMIT),
        MAX_RUN_LIMIT,
      );
      return readTransaction(database, (tx) => {
        if (query.schedule) {
          const known = tx
            .select({ id: batchSchedules.id })
            .from(batchSchedules)
            .where(eq(batchSchedules.name, query.schedule))
            .limit(1)
            .get();
          if (!known) throw new NotFoundError(`batch schedule "${query.schedule}" does not exist`);
        }
        return tx
          .select()
          .from(batchRuns)
          .where(query.schedule ? eq(batchRuns.schedule, query.schedule) : sql`1 = 1`)
          .orderBy(desc(batchRuns.occurrence), desc(batchRuns.id))
          .limit(limit)
          .all()
          .map(batchRunFromRow);
      });
    },
  };
}

/** Occurrences strictly between `after` and `before`, counted up to {@link MAX_SKIPPED_COUNT}. */
function countSkipped(cron: CronSchedule, after: Date, before: Date): number {
  let count = 0;
  let t = cron.next(after);
  while (t && t < before && count < MAX_SKIPPED_COUNT) {
    count++;
    t = cron.next(t);
  }
  return count;
}

/** What is wrong with a schedule's job, as a list. */
function jobProblems(job: registry.BatchJob): string[] {
  const problems: string[] = [];
  const deploymentProblem = resourceNameProblem('deployment', job.deployment);
  if (deploymentProblem) problems.push(deploymentProblem);
  if (!Number.isInteger(job.version) || job.version < 0)
    problems.push(`version ${job.version} must be 1 or more (0 = the deployment's stable version)`);
  if (job.input.trim() === '') problems.push('input is missing: the .csv or .jsonl file to score');
  if (job.output.trim() === '') {
    problems.push(`output is missing: the scores file, e.g. scores-${OCCURRENCE_PLACEHOLDER}.csv`);
  } else if (!job.output.includes(OCCURRENCE_PLACEHOLDER)) {
    problems.push(
      `output "${job.output}" must contain ${OCCURRENCE_PLACEHOLDER} so each occurrence writes its own file, e.g. scores-${OCCURRENCE_PLACEHOLDER}.csv`,
    );
  }
  for (const [what, path] of [
    ['input', job.input],
    ['output', job.output],
  ] as const) {
    for (const placeholder of path.match(/\{[^}]*\}/g) ?? []) {
      if (placeholder !== OCCURRENCE_PLACEHOLDER)
        problems.push(
          `${what} "${path}" has an unknown placeholder ${placeholder} (only ${OCCURRENCE_PLACEHOLDER} is replaced)`,
        );
    }
  }
  if (job.input !== '' && job.input === job.output) problems.push('input and output must be different files');
  const mapped = Object.entries(job.entityColumns);
  if (job.entityColumn !== '' && mapped.length > 0)
    problems.push('give entity_column (one key) or entity_columns (key → column), not both');
  for (const [key, column] of mapped)
    if (key.trim() === '' || column.trim() === '')
      problems.push(`entity column "${key}" → "${column}" is blank`);
  const fraction = (name: string, value: number | undefined): void => {
    if (value !== undefined && !(value >= 0 && value <= 1))
      problems.push(`${name} ${value} must be a fraction from 0 to 1 (e.g. 0.01 for 1%)`);
  };
  fraction('error_budget', job.errorBudget);
  fraction('record_sample', job.recordSample);
  if (job.batchSize > MAX_BATCH_SIZE) problems.push(`batch_size ${job.batchSize} is over ${MAX_BATCH_SIZE}`);
  return problems;
}
