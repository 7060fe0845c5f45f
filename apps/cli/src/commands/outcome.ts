import type { monitor } from '@slipway/contracts';
import type { Command } from 'commander';
import { parseNumber } from '../arguments.js';
import { UsageError } from '../exit-codes.js';
import { printJson } from '../output.js';
import type { Run } from '../run.js';
import { askMonitor } from './monitor.js';

/** The options of `slipway outcome send`, as commander collects them. */
export interface OutcomeArguments {
  requestId?: string;
  unit?: string;
  deployment?: string;
  label?: string;
  kpi?: string;
  value?: string;
  time?: string;
  id?: string;
}

/**
 * The Outcome for the command line: a label of a request (`--request-id r1 --label 1`) or a KPI
 * event of a request or of a unit (`--unit u42 --deployment fraud --kpi converted --value 1`;
 * the value defaults to 1).
 */
export function buildOutcome(args: OutcomeArguments): monitor.Outcome {
  if (!args.requestId && !args.unit)
    throw new UsageError('name what the outcome belongs to: --request-id or --unit');
  if (args.unit && !args.deployment)
    throw new UsageError('--unit needs --deployment (the deployment of the experiment)');
  if (args.label === undefined && args.kpi === undefined) throw new UsageError('send a --label or a --kpi');
  if (args.value !== undefined && args.kpi === undefined) throw new UsageError('--value needs --kpi');
  let time: Date | undefined;
  if (args.time !== undefined) {
    time = new Date(args.time);
    if (Number.isNaN(time.getTime()))
      throw new UsageError(`--time "${args.time}" is not a time such as 2030-01-01T10:00:00Z`);
  }
  return {
    outcomeId: args.id ?? '',
    requestId: args.requestId ?? '',
    unitKey: args.unit ?? '',
    deployment: args.deployment ?? '',
    label: args.label === undefined ? undefined : parseNumber(args.label, '--label'),
    kpi: args.kpi ?? '',
    value: args.kpi === undefined ? 0 : parseNumber(args.value ?? '1', '--value'),
    time,
  };
}

/** `slipway outcome send`. */
export function outcomeCommands(program: Command, run: Run): void {
  program
    .command('outcome')
    .description('what happened after predictions: delayed labels and KPI events, sent to the monitor')
    .command('send')
    .description(
      'send one outcome, e.g. --request-id r1 --label 1, or --unit u42 --deployment fraud --kpi converted',
    )
    .option('--request-id <id>', 'the prediction it belongs to (its request id)')
    .option('--unit <key>', 'the experiment unit it belongs to, e.g. u42')
    .option('--deployment <name>', 'the deployment whose experiment the unit is in (with --unit)')
    .option('--label <value>', 'the true label of the prediction, e.g. 0 or 1')
    .option('--kpi <name>', 'a KPI event, e.g. converted or revenue')
    .option('--value <number>', 'the KPI value (default 1)')
    .option('--time <iso>', 'when it happened (default now)')
    .option('--id <outcome-id>', 'idempotency key (default: derived from the owner, KPI and time)')
    .action(
      run(async (ctx, cmd) => {
        const outcome = buildOutcome(cmd.opts<OutcomeArguments>());
        const response = await askMonitor(ctx, (m) => m.ingestOutcomes([{ outcomes: [outcome] }]));
        if (ctx.json) return printJson(response);
        process.stdout.write(
          response.accepted > 0n ? 'outcome stored\n' : 'already stored (same outcome id)\n',
        );
      }),
    );
}
