import type { monitor } from '@slipway/contracts';
import { startShadow, stopShadow } from '@slipway/release';
import type { Command } from 'commander';
import { parseNumber, parseVersion } from '../arguments.js';
import { changeDeployment, changeOptions, type ChangeOptions } from '../deployment-change.js';
import { UsageError } from '../exit-codes.js';
import { printFields, printJson, printTable } from '../output.js';
import type { Run } from '../run.js';
import { askMonitor, formatMs, formatNumber, formatPercent, windowSeconds } from './monitor.js';

/** The comparison and the largest disagreements of a GetShadowReport answer. */
export function printShadowReport(r: monitor.GetShadowReportResponse, window: string): void {
  printFields([
    ['deployment', r.deployment],
    ['primary', r.primaryVariant],
    ['shadow', r.shadowVariant],
    ['window', window],
    ['pairs', String(r.pairs)],
    ['agreement', `${formatPercent(r.agreement, 2)} (same side of threshold ${r.threshold})`],
    ['mean |diff|', formatNumber(r.meanAbsDiff, 4)],
    ['max |diff|', formatNumber(r.maxAbsDiff, 4)],
    ['latency p50', `${formatMs(r.primaryP50Ms)} primary, ${formatMs(r.shadowP50Ms)} shadow`],
    ['latency p99', `${formatMs(r.primaryP99Ms)} primary, ${formatMs(r.shadowP99Ms)} shadow`],
  ]);
  if (r.examples.length === 0) return;
  process.stdout.write('\n');
  printTable(
    ['request id', 'primary', 'shadow', '|diff|'],
    r.examples.map((e) => [
      e.requestId,
      formatNumber(e.primaryScore, 4),
      formatNumber(e.shadowScore, 4),
      formatNumber(Math.abs(e.primaryScore - e.shadowScore), 4),
    ]),
  );
}

/** `slipway shadow start|stop|report`. */
export function shadowCommands(program: Command, run: Run): void {
  const shadow = program
    .command('shadow')
    .description('mirror a share of requests to another version; its answers are recorded, never returned');
  changeOptions(
    shadow
      .command('start <deployment>')
      .description('start (or replace) the shadow variant')
      .requiredOption('--version <n>', 'the model version to shadow')
      .option('--model <name>', "model name (default: the deployment's stable model)")
      .option('--sample <rate>', 'share of requests copied to the shadow, in (0, 1]', '1'),
  ).action(
    run(async (ctx, cmd) => {
      const opts = cmd.opts<ChangeOptions & { version: string; model?: string; sample: string }>();
      const options = {
        version: parseVersion(opts.version, '--version'),
        sample: parseNumber(opts.sample, '--sample'),
        model: opts.model,
      };
      await changeDeployment(ctx, String(cmd.args[0]), (current) => startShadow(current, options), opts);
    }),
  );
  changeOptions(shadow.command('stop <deployment>').description('remove the shadow variant')).action(
    run(async (ctx, cmd) => {
      await changeDeployment(ctx, String(cmd.args[0]), stopShadow, cmd.opts<ChangeOptions>());
    }),
  );
  shadow
    .command('report <deployment>')
    .description("the shadow's answers compared with the primary's on the same requests (from the monitor)")
    .option('--window <duration>', 'how far back, e.g. 15m, 1h, 1d (default 1h)')
    .option('--examples <n>', 'largest disagreements to list', '5')
    .action(
      run(async (ctx, cmd) => {
        const opts = cmd.opts<{ window?: string; examples: string }>();
        if (!/^\d+$/.test(opts.examples))
          throw new UsageError(`--examples "${opts.examples}" is not a count`);
        const request = {
          deployment: String(cmd.args[0]),
          windowSeconds: windowSeconds(opts),
          examples: Number(opts.examples),
        };
        const response = await askMonitor(ctx, (m) => m.getShadowReport(request));
        if (ctx.json) return printJson(response);
        printShadowReport(response, `last ${opts.window ?? '1h'}`);
      }),
    );
}
