import type { Command } from 'commander';
import { UsageError } from '../exit-codes.js';
import { printJson } from '../output.js';
import type { Run } from '../run.js';

/** `slipway alias set|delete`. */
export function aliasCommands(program: Command, run: Run): void {
  const alias = program.command('alias').description('point names such as champion at model versions');
  alias
    .command('set <model> <alias> <version>')
    .description('point an alias at a version (audited)')
    .option('--reason <text>', 'why, for the audit log')
    .action(
      run(async (ctx, cmd) => {
        const [model, name, versionText] = cmd.args as [string, string, string];
        if (!/^\d+$/.test(versionText)) throw new UsageError(`version "${versionText}" is not a number`);
        const version = Number(versionText);
        const reason = cmd.opts<{ reason?: string }>().reason ?? '';
        const res = await ctx.models().setAlias({ model, alias: name, version, reason });
        if (ctx.json) return printJson({ model, alias: name, version, previousVersion: res.previousVersion });
        const was = res.previousVersion ? ` (was ${res.previousVersion})` : '';
        process.stdout.write(`${model}@${name} → ${version}${was}\n`);
      }),
    );
  alias
    .command('delete <model> <alias>')
    .description('remove an alias (audited)')
    .option('--reason <text>', 'why, for the audit log')
    .action(
      run(async (ctx, cmd) => {
        const [model, name] = cmd.args as [string, string];
        const reason = cmd.opts<{ reason?: string }>().reason ?? '';
        const res = await ctx.models().deleteAlias({ model, alias: name, reason });
        if (ctx.json) return printJson({ model, alias: name, previousVersion: res.previousVersion });
        process.stdout.write(`${model}@${name} removed (was ${res.previousVersion})\n`);
      }),
    );
}
