import path from 'node:path';
import { registry } from '@slipway/contracts';
import type { Command } from 'commander';
import {
  collect,
  parseCount,
  parseEntityColumns,
  parseFraction,
  parseTime,
  parseVersion,
} from '../arguments.js';
import { UsageError } from '../exit-codes.js';
import { formatTime, printFields, printJson, printTable } from '../output.js';
import type { Run } from '../run.js';

/** The options of `slipway batch schedule create`, as commander collects them. */
export interface ScheduleCreateArguments {
  cron: string;
  deployment: string;
  version?: string;
  input: string;
  output: string;
  entityKey: string[];
  idColumn?: string;
  errorBudget?: string;
  batchSize?: string;
  checkpointEvery?: string;
  recordSample?: string;
  startAt?: string;
  paused?: boolean;
}

const STATUS_NAMES: Readonly<Record<number, string>> = {
  [registry.BatchRunStatus.BATCH_RUN_STATUS_PENDING]: 'pending',
  [registry.BatchRunStatus.BATCH_RUN_STATUS_RUNNING]: 'running',
  [registry.BatchRunStatus.BATCH_RUN_STATUS_SUCCEEDED]: 'succeeded',
  [registry.BatchRunStatus.BATCH_RUN_STATUS_FAILED]: 'failed',
  [registry.BatchRunStatus.BATCH_RUN_STATUS_CANCELLED]: 'cancelled',
};

/** `succeeded`, `running`, … */
export function runStatusName(status: registry.BatchRunStatus): string {
  return STATUS_NAMES[status] ?? 'unknown';
}

/**
 * The CreateBatchScheduleRequest the flags describe. Relative paths are made absolute against the
 * current directory: workers may run anywhere.
 */
export function buildScheduleRequest(
  name: string,
  args: ScheduleCreateArguments,
  cwd = process.cwd(),
): registry.CreateBatchScheduleRequest {
  const entityColumns = parseEntityColumns(args.entityKey);
  const job = registry.BatchJob.fromPartial({
    deployment: args.deployment,
    version: args.version === undefined ? 0 : parseVersion(args.version, '--version'),
    input: path.resolve(cwd, args.input),
    output: path.resolve(cwd, args.output),
    ...(typeof entityColumns === 'string' ? { entityColumn: entityColumns } : {}),
    ...(typeof entityColumns === 'object' ? { entityColumns } : {}),
    idColumn: args.idColumn ?? '',
    ...(args.errorBudget === undefined
      ? {}
      : { errorBudget: parseFraction(args.errorBudget, '--error-budget') }),
    batchSize: args.batchSize === undefined ? 0 : parseCount(args.batchSize, '--batch-size'),
    checkpointEvery:
      args.checkpointEvery === undefined ? 0 : parseCount(args.checkpointEvery, '--checkpoint-every'),
    ...(args.recordSample === undefined
      ? {}
      : { recordSample: parseFraction(args.recordSample, '--record-sample') }),
  });
  return {
    name,
    cron: args.cron,
    job,
    startAt: args.startAt === undefined ? undefined : parseTime(args.startAt, '--start-at'),
    paused: args.paused ?? false,
  };
}

function versionText(job: registry.BatchJob | undefined): string {
  if (!job) return '';
  return `${job.deployment}${job.version > 0 ? `@${job.version}` : ' (stable)'}`;
}

function lastRunText(run: registry.BatchRun | undefined): string {
  return run ? `${run.occurrenceKey} ${runStatusName(run.status)}` : '';
}

function printSchedule(schedule: registry.BatchSchedule): void {
  printFields([
    ['name', schedule.name],
    ['cron', `${schedule.cron} (UTC)`],
    ['deployment', versionText(schedule.job)],
    ['input', schedule.job?.input],
    ['output', schedule.job?.output],
    ['state', schedule.paused ? 'paused' : 'active'],
    ['next run', formatTime(schedule.nextOccurrence)],
    ['last run', lastRunText(schedule.lastRun)],
  ]);
}

/** `slipway batch schedule create|list|delete|pause|resume` and `slipway batch runs`. */
export function batchScheduleCommands(batch: Command, run: Run): void {
  const schedule = batch
    .command('schedule')
    .description('scheduled batch runs: cron schedules (UTC) that batch workers run under leases');

  schedule
    .command('create <name>')
    .description(
      'schedule a batch run; each occurrence writes its own output file (workers: slipway batch worker)',
    )
    .requiredOption(
      '--cron <expression>',
      '5 fields, UTC: minute hour day-of-month month day-of-week, e.g. "0 2 * * *"',
    )
    .requiredOption('--deployment <name>', 'the deployment whose model scores the rows, e.g. fraud')
    .option(
      '--version <n>',
      "pin a version of the deployment's model (default: its stable version at each run)",
    )
    .requiredOption(
      '--input <file>',
      'rows to score: .csv with a header line, or .jsonl (may contain {occurrence})',
    )
    .requiredOption('--output <file>', 'the scores (CSV), with {occurrence}, e.g. scores-{occurrence}.csv')
    .option(
      '--entity-key <column|key=column>',
      'input column of the entity key (repeatable as key=column); default: the column named like the key',
      collect,
      [],
    )
    .option('--id-column <name>', "input column copied to each row's id (default id; else the row number)")
    .option(
      '--error-budget <fraction>',
      'a run fails when more than this share of rows is rejected (default 0.01)',
    )
    .option('--batch-size <rows>', 'rows per feature-service call and model run (default 1024)')
    .option('--checkpoint-every <rows>', 'rows between checkpoints (default 50000)')
    .option('--record-sample <fraction>', 'share of predictions sent to the monitor (default 0.01)')
    .option(
      '--start-at <time>',
      'ISO-8601: run no occurrence before this time (default now); a past time makes the latest occurrence since then due at once',
    )
    .option('--paused', 'create it paused (slipway batch schedule resume starts it)')
    .action(
      run(async (ctx, cmd) => {
        const request = buildScheduleRequest(String(cmd.args[0]), cmd.opts<ScheduleCreateArguments>());
        const { schedule: created } = await ctx.batch().createBatchSchedule(request);
        if (ctx.json) return printJson(created);
        printSchedule(created!);
      }),
    );

  schedule
    .command('list')
    .description('every schedule with its next occurrence and last run')
    .action(
      run(async (ctx) => {
        const { schedules } = await ctx.batch().listBatchSchedules({});
        if (ctx.json) return printJson(schedules);
        printTable(
          ['name', 'cron (UTC)', 'deployment', 'output', 'state', 'next run', 'last run'],
          schedules.map((s) => [
            s.name,
            s.cron,
            versionText(s.job),
            s.job?.output ?? '',
            s.paused ? 'paused' : 'active',
            formatTime(s.nextOccurrence),
            lastRunText(s.lastRun),
          ]),
        );
      }),
    );

  schedule
    .command('delete <name>')
    .description('delete a schedule and cancel its unfinished runs (their history stays)')
    .option('--reason <text>', 'recorded in the audit log')
    .action(
      run(async (ctx, cmd) => {
        const name = String(cmd.args[0]);
        const { reason } = cmd.opts<{ reason?: string }>();
        const result = await ctx.batch().deleteBatchSchedule({ name, reason: reason ?? '' });
        if (ctx.json) return printJson(result);
        const cancelled = result.cancelledRuns;
        process.stdout.write(
          `deleted batch schedule "${name}"${cancelled > 0 ? ` (${cancelled} unfinished run${cancelled === 1 ? '' : 's'} cancelled)` : ''}\n`,
        );
      }),
    );

  for (const [verb, pause] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    schedule
      .command(`${verb} <name>`)
      .description(
        pause
          ? 'start no new runs of a schedule (runs already started finish)'
          : 'start runs of a paused schedule again; its latest missed occurrence runs at once',
      )
      .option('--reason <text>', 'recorded in the audit log')
      .action(
        run(async (ctx, cmd) => {
          const request = { name: String(cmd.args[0]), reason: cmd.opts<{ reason?: string }>().reason ?? '' };
          const { schedule: changed } = pause
            ? await ctx.batch().pauseBatchSchedule(request)
            : await ctx.batch().resumeBatchSchedule(request);
          if (ctx.json) return printJson(changed);
          printSchedule(changed!);
        }),
      );
  }

  batch
    .command('runs')
    .description('scheduled batch runs, newest occurrence first: status, holder, rows')
    .option('--schedule <name>', 'only the runs of this schedule')
    .option('--limit <n>', 'at most this many runs', '50')
    .action(
      run(async (ctx, cmd) => {
        const opts = cmd.opts<{ schedule?: string; limit: string }>();
        if (!/^\d+$/.test(opts.limit) || Number(opts.limit) < 1)
          throw new UsageError(`--limit "${opts.limit}" is not a whole number (1 or more)`);
        const { runs } = await ctx
          .batch()
          .listBatchRuns({ schedule: opts.schedule ?? '', limit: Number(opts.limit) });
        if (ctx.json) return printJson(runs);
        printTable(
          [
            'run',
            'schedule',
            'occurrence',
            'status',
            'worker',
            'attempts',
            'read',
            'scored',
            'rejected',
            'finished',
            'message',
          ],
          runs.map((r) => [
            String(r.runId),
            r.schedule,
            r.occurrenceKey,
            runStatusName(r.status),
            r.workerId,
            r.attempts,
            String(r.rowsRead),
            String(r.rowsScored),
            String(r.rowsRejected),
            formatTime(r.finishedAt),
            r.message,
          ]),
        );
      }),
    );
}
