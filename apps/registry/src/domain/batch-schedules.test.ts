import { registry } from '@slipway/contracts';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from '@slipway/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRegistry, registerTestVersion, type TestRegistry } from '../testing/fixtures.js';
import type { CreateBatchScheduleInput } from './batch-schedules.js';

const { BatchRunStatus: Status, VariantRole, StrategyKind } = registry;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('batch schedules', () => {
  let reg: TestRegistry;
  beforeEach(async () => {
    // The clock starts at 2030-01-01T00:00:00.000Z.
    reg = createTestRegistry();
    await registerTestVersion(reg.domain, 'fraud');
    reg.domain.deployments.applyDeployment({
      deployment: registry.Deployment.fromPartial({
        name: 'fraud',
        variants: [
          { name: 'stable', model: 'fraud', version: 1, role: VariantRole.VARIANT_ROLE_STABLE, weight: 100 },
        ],
        strategy: { kind: StrategyKind.STRATEGY_KIND_DIRECT },
      }),
      actor: 'alice',
    });
  });
  afterEach(() => reg.cleanup());

  const batch = () => reg.domain.batch;
  const job = (extra: Partial<registry.BatchJob> = {}): registry.BatchJob =>
    registry.BatchJob.fromPartial({
      deployment: 'fraud',
      input: '/data/tx.csv',
      output: '/data/scores-{occurrence}.csv',
      ...extra,
    });
  const create = (extra: Partial<CreateBatchScheduleInput> = {}) =>
    batch().create({ name: 'nightly', cron: '0 2 * * *', job: job(), actor: 'alice', ...extra });
  const claim = (workerId: string, leaseSeconds = 10) =>
    batch().claim({ workerId, leaseSeconds, actor: 'ci' });
  const complete = (runId: bigint, workerId: string, extra: Record<string, unknown> = {}) =>
    batch().complete({
      runId,
      workerId,
      status: Status.BATCH_RUN_STATUS_SUCCEEDED,
      rowsRead: 10,
      rowsScored: 9,
      rowsRejected: 1,
      outputSha256: 'a'.repeat(64),
      actor: 'ci',
      ...extra,
    });
  const actions = () => reg.domain.audit.list().map((e) => [e.action, e.target]);

  describe('create, list, delete, pause', () => {
    it('creates an audited schedule with its next occurrence', () => {
      const schedule = create({ reason: 'nightly scores' });
      expect(schedule).toEqual({
        name: 'nightly',
        cron: '0 2 * * *',
        job: job(),
        paused: false,
        startAt: reg.clock.now(),
        createdAt: reg.clock.now(),
        createdBy: 'alice',
        nextOccurrence: new Date('2030-01-01T02:00:00Z'),
        lastRun: undefined,
      });
      expect(batch().list()).toEqual([schedule]);
      const [entry] = reg.domain.audit.list({ action: 'batch.schedule.create' });
      expect(entry).toMatchObject({
        actor: 'alice',
        target: 'batch-schedule/nightly',
        reason: 'nightly scores',
      });
      expect(JSON.parse(entry!.afterJson)).toMatchObject({ cron: '0 2 * * *', job: { deployment: 'fraud' } });
    });

    it('lists every problem of an invalid schedule at once', () => {
      expect(() =>
        create({
          name: 'Bad Name',
          cron: '61 * * * *',
          job: job({
            output: '/data/scores.csv',
            input: '/data/{date}.csv',
            errorBudget: 2,
            entityColumn: 'uid',
            entityColumns: { userId: 'uid' },
          }),
        }),
      ).toThrow(
        new InvalidArgumentError(
          'batch schedule "Bad Name" is invalid (6 problems): ' +
            '1) schedule name "Bad Name" is invalid: use 1-63 characters of a-z, 0-9, "_", "." or "-", starting with a letter or digit; ' +
            '2) cron "61 * * * *" is invalid: minute 61 is out of range 0-59; ' +
            '3) output "/data/scores.csv" must contain {occurrence} so each occurrence writes its own file, e.g. scores-{occurrence}.csv; ' +
            '4) input "/data/{date}.csv" has an unknown placeholder {date} (only {occurrence} is replaced); ' +
            '5) give entity_column (one key) or entity_columns (key → column), not both; ' +
            '6) error_budget 2 must be a fraction from 0 to 1 (e.g. 0.01 for 1%)',
        ),
      );
      expect(batch().list()).toEqual([]);
      expect(reg.domain.audit.list({ action: 'batch.schedule.create' })).toEqual([]);
    });

    it('refuses a duplicate name and an unknown deployment; a deleted name can be used again', () => {
      create();
      expect(() => create()).toThrow(
        new AlreadyExistsError(
          'batch schedule "nightly" already exists; delete it first or choose another name',
        ),
      );
      expect(() => create({ name: 'other', job: job({ deployment: 'nope' }) })).toThrow(NotFoundError);
      expect(batch().remove('nightly', { actor: 'alice', reason: 'replaced' })).toEqual({ cancelledRuns: 0 });
      expect(() => batch().remove('nightly', { actor: 'alice' })).toThrow(
        new NotFoundError('batch schedule "nightly" does not exist'),
      );
      expect(create({ cron: '0 3 * * *' }).cron).toBe('0 3 * * *');
      expect(actions()).toContainEqual(['batch.schedule.delete', 'batch-schedule/nightly']);
    });

    it('a paused schedule starts no run; resumed, its latest missed occurrence is due at once', () => {
      create({ cron: '0 * * * *' });
      expect(batch().setPaused('nightly', true, { actor: 'alice' })).toMatchObject({
        paused: true,
        nextOccurrence: undefined,
      });
      // Pausing twice changes nothing and is audited once.
      batch().setPaused('nightly', true, { actor: 'alice' });
      reg.clock.advance(3 * HOUR + 5 * MINUTE);
      expect(claim('w1').run).toBeUndefined();
      expect(batch().setPaused('nightly', false, { actor: 'alice' }).nextOccurrence).toEqual(
        new Date('2030-01-01T03:00:00Z'),
      );
      // 00:00 (the start time itself), 01:00 and 02:00 were missed.
      expect(claim('w1').run).toMatchObject({ occurrenceKey: '20300101T0300Z', skippedOccurrences: 3 });
      expect(reg.domain.audit.list({ targetPrefix: 'batch-schedule/' }).map((e) => e.action)).toEqual([
        'batch.schedule.create',
        'batch.schedule.pause',
        'batch.schedule.resume',
      ]);
    });
  });

  describe('claims', () => {
    it('hands out nothing before the first occurrence, then the occurrence once, with its paths resolved', () => {
      create();
      expect(claim('w1')).toEqual({ run: undefined, takeover: false });
      reg.clock.advance(2 * HOUR);
      const { run, takeover } = claim('w1');
      expect(takeover).toBe(false);
      expect(run).toEqual({
        runId: 1n,
        schedule: 'nightly',
        occurrence: new Date('2030-01-01T02:00:00Z'),
        occurrenceKey: '20300101T0200Z',
        status: Status.BATCH_RUN_STATUS_RUNNING,
        job: job({ output: '/data/scores-20300101T0200Z.csv' }),
        workerId: 'w1',
        leaseExpiresAt: new Date(reg.clock.now().getTime() + 10_000),
        attempts: 1,
        skippedOccurrences: 0,
        createdAt: reg.clock.now(),
        claimedAt: reg.clock.now(),
        finishedAt: undefined,
        rowsRead: 0n,
        rowsScored: 0n,
        rowsRejected: 0n,
        outputSha256: '',
        message: '',
      });
      expect(claim('w2').run).toBeUndefined();
      // Within w1's lease, the occurrence stays w1's.
      reg.clock.advance(9000);
      expect(claim('w2').run).toBeUndefined();
      expect(reg.domain.audit.list({ action: 'batch.run.claim' })).toMatchObject([
        { actor: 'ci', target: 'batch-run/nightly@20300101T0200Z', reason: '' },
      ]);
    });

    it('runs only the latest of several missed occurrences and says how many it skipped', () => {
      create({ cron: '0 * * * *' });
      reg.clock.advance(5 * HOUR + 30 * MINUTE);
      const { run } = claim('w1');
      // 00:00 (the start time itself) to 04:00.
      expect(run).toMatchObject({ occurrenceKey: '20300101T0500Z', skippedOccurrences: 5 });
      expect(reg.domain.audit.list({ action: 'batch.run.claim' })[0]!.reason).toBe(
        '5 earlier occurrences were missed and skipped',
      );
      complete(run!.runId, 'w1');
      expect(claim('w1').run).toBeUndefined();
      reg.clock.advance(30 * MINUTE);
      expect(claim('w1').run).toMatchObject({ occurrenceKey: '20300101T0600Z', skippedOccurrences: 0 });
    });

    it('a start time in the past makes the latest occurrence since then due at once', () => {
      create({ cron: '0 0 1 1 *', startAt: new Date('2020-06-01T00:00:00Z') });
      expect(batch().list()[0]!.nextOccurrence).toEqual(new Date('2030-01-01T00:00:00Z'));
      expect(claim('w1').run).toMatchObject({ occurrenceKey: '20300101T0000Z', skippedOccurrences: 9 });
    });

    it('a worker that claims again gets back the run it holds (it restarted)', () => {
      create();
      reg.clock.advance(2 * HOUR);
      const first = claim('w1').run!;
      reg.clock.advance(1000);
      const again = claim('w1');
      expect(again).toMatchObject({
        takeover: true,
        run: { runId: first.runId, attempts: 2, workerId: 'w1' },
      });
    });

    it('hands out the oldest due work first: a run to take over before a newer occurrence', () => {
      create({ name: 'hourly', cron: '0 * * * *' });
      reg.clock.advance(HOUR);
      const hourly = claim('w1', 5).run!;
      create({ name: 'later', cron: '30 * * * *' });
      reg.clock.advance(31 * MINUTE);
      // hourly@01:00's lease expired; later@01:30 is due too: the older one comes first.
      expect(claim('w2')).toMatchObject({ takeover: true, run: { runId: hourly.runId, workerId: 'w2' } });
      expect(claim('w3')).toMatchObject({
        takeover: false,
        run: { schedule: 'later', occurrenceKey: '20300101T0130Z' },
      });
    });

    it('refuses an invalid worker id', () => {
      expect(() => claim('bad id')).toThrow(InvalidArgumentError);
    });
  });

  describe('leases', () => {
    beforeEach(() => {
      create();
      reg.clock.advance(2 * HOUR);
    });

    it('renew extends the holder lease, within the bounds', () => {
      const { run } = claim('w1', 10);
      reg.clock.advance(8000);
      expect(batch().renew({ runId: run!.runId, workerId: 'w1', leaseSeconds: 10 })).toEqual({
        leaseExpiresAt: new Date(reg.clock.now().getTime() + 10_000),
      });
      expect(batch().renew({ runId: run!.runId, workerId: 'w1', leaseSeconds: 1 }).leaseExpiresAt).toEqual(
        new Date(reg.clock.now().getTime() + 2000),
      );
      // Renewals are not audited.
      expect(reg.domain.audit.list({ targetPrefix: 'batch-run/' })).toHaveLength(1);
    });

    it('an expired lease stays with its holder until another worker takes the run over', () => {
      const { run } = claim('w1', 10);
      reg.clock.advance(5000);
      expect(claim('w2').run).toBeUndefined();
      reg.clock.advance(6000);
      // Expired, not yet taken: the holder may still renew.
      expect(() => batch().renew({ runId: run!.runId, workerId: 'w1' })).not.toThrow();
      reg.clock.advance(11_000);
      const takeover = claim('w2');
      expect(takeover).toMatchObject({
        takeover: true,
        run: { runId: run!.runId, workerId: 'w2', attempts: 2, status: Status.BATCH_RUN_STATUS_RUNNING },
      });
      const lost =
        'worker "w1" does not hold the lease on batch run 1 (nightly@20300101T0200Z): worker "w2" took it over at 2030-01-01T02:00:22.000Z; stop working on it';
      expect(() => batch().renew({ runId: run!.runId, workerId: 'w1' })).toThrow(
        new FailedPreconditionError(lost),
      );
      expect(() => complete(run!.runId, 'w1')).toThrow(new FailedPreconditionError(lost));
      expect(() => batch().release({ runId: run!.runId, workerId: 'w1', actor: 'ci' })).toThrow(
        FailedPreconditionError,
      );
      expect(complete(run!.runId, 'w2')).toMatchObject({
        status: Status.BATCH_RUN_STATUS_SUCCEEDED,
        workerId: 'w2',
      });
      const [entry] = reg.domain.audit.list({ action: 'batch.run.takeover' });
      expect(entry).toMatchObject({
        target: 'batch-run/nightly@20300101T0200Z',
        reason: 'the lease of worker "w1" expired at 2030-01-01T02:00:21.000Z',
      });
      expect(JSON.parse(entry!.beforeJson)).toEqual({
        status: 'running',
        workerId: 'w1',
        leaseExpiresAt: '2030-01-01T02:00:21.000Z',
      });
    });

    it('complete records the numbers, is audited, answers a repeat the same, and ends the lease', () => {
      const { run } = claim('w1');
      reg.clock.advance(3000);
      const done = complete(run!.runId, 'w1', { message: 'fine' });
      expect(done).toMatchObject({
        status: Status.BATCH_RUN_STATUS_SUCCEEDED,
        finishedAt: reg.clock.now(),
        leaseExpiresAt: undefined,
        rowsRead: 10n,
        rowsScored: 9n,
        rowsRejected: 1n,
        outputSha256: 'a'.repeat(64),
        message: 'fine',
      });
      expect(complete(run!.runId, 'w1', { message: 'fine' })).toEqual(done);
      expect(reg.domain.audit.list({ action: 'batch.run.complete' })).toHaveLength(1);
      expect(() => batch().renew({ runId: run!.runId, workerId: 'w1' })).toThrow(
        /it has ended \(succeeded at /,
      );
      expect(batch().list()[0]!.lastRun).toEqual(done);
      expect(batch().listRuns({ schedule: 'nightly' })).toEqual([done]);
    });

    it('refuses a bad completion, and unknown runs', () => {
      const { run } = claim('w1');
      expect(() => complete(run!.runId, 'w1', { status: Status.BATCH_RUN_STATUS_RUNNING })).toThrow(
        new InvalidArgumentError('CompleteBatchRun of run 1: status must be SUCCEEDED or FAILED'),
      );
      expect(() => complete(run!.runId, 'w1', { outputSha256: 'xyz' })).toThrow(
        /not 64 lowercase hex digits/,
      );
      expect(() => complete(99n, 'w1')).toThrow(new NotFoundError('batch run 99 does not exist'));
      expect(() => batch().renew({ runId: 99n, workerId: 'w1' })).toThrow(NotFoundError);
      expect(() => batch().listRuns({ schedule: 'nope' })).toThrow(
        new NotFoundError('batch schedule "nope" does not exist'),
      );
    });

    it('a released run is resumed by the next claim', () => {
      const { run } = claim('w1');
      const released = batch().release({
        runId: run!.runId,
        workerId: 'w1',
        message: 'worker stopping',
        actor: 'ci',
      });
      expect(released).toMatchObject({ status: Status.BATCH_RUN_STATUS_PENDING, leaseExpiresAt: undefined });
      expect(() => batch().renew({ runId: run!.runId, workerId: 'w1' })).toThrow(/it was given back/);
      expect(claim('w2')).toMatchObject({
        takeover: true,
        run: { runId: run!.runId, workerId: 'w2', attempts: 2 },
      });
      expect(reg.domain.audit.list({ action: 'batch.run.takeover' })[0]!.reason).toBe(
        'resumed after it was given back (worker stopping)',
      );
    });

    it('deleting the schedule cancels its unfinished runs; the holder loses its lease; history stays', () => {
      const { run } = claim('w1');
      expect(batch().remove('nightly', { actor: 'alice' })).toEqual({ cancelledRuns: 1 });
      expect(() => batch().renew({ runId: run!.runId, workerId: 'w1' })).toThrow(
        /it was cancelled: its schedule "nightly" was deleted by alice; stop working on it/,
      );
      expect(batch().listRuns({ schedule: 'nightly' })).toMatchObject([
        { runId: run!.runId, status: Status.BATCH_RUN_STATUS_CANCELLED },
      ]);
      // A new schedule of the same name runs the same occurrence again: runs belong to a schedule.
      create({ startAt: new Date('2030-01-01T00:00:00Z') });
      expect(claim('w2').run).toMatchObject({ runId: 2n, occurrenceKey: '20300101T0200Z' });
    });
  });

  describe('one run per occurrence, enforced by SQLite', () => {
    it('refuses a second row for the same (schedule, occurrence)', () => {
      create();
      reg.clock.advance(2 * HOUR);
      claim('w1');
      const insert = () =>
        reg.database.sqlite
          .prepare(
            `INSERT INTO batch_runs (schedule_id, schedule, occurrence, status, job_json, worker_id, attempts, created_at, claimed_at)
             VALUES (1, 'nightly', '2030-01-01T02:00:00.000Z', 'running', '{}', 'w2', 1, '', '')`,
          )
          .run();
      expect(insert).toThrow(/UNIQUE constraint failed: batch_runs.schedule_id, batch_runs.occurrence/);
    });

    it('two registries on one database file hand out an occurrence once', () => {
      create();
      reg.clock.advance(2 * HOUR);
      const other = reg.openAnother();
      const claims = ['a', 'b', 'c', 'd'].flatMap((w, i) => [
        (i % 2 === 0 ? reg.domain : other.domain).batch.claim({
          workerId: `${w}1`,
          leaseSeconds: 30,
          actor: 'ci',
        }),
        (i % 2 === 0 ? other.domain : reg.domain).batch.claim({
          workerId: `${w}2`,
          leaseSeconds: 30,
          actor: 'ci',
        }),
      ]);
      expect(claims.filter((c) => c.run !== undefined)).toHaveLength(1);
      expect(batch().listRuns()).toHaveLength(1);
    });
  });
});
