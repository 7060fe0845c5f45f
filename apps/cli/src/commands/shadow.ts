import { startShadow, stopShadow } from '@slipway/release';
import type { Command } from 'commander';
import { parseNumber, parseVersion } from '../arguments.js';
import { changeDeployment, changeOptions, type ChangeOptions } from '../deployment-change.js';
import type { Run } from '../run.js';

/** `slipway shadow start|stop`. */
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
}
