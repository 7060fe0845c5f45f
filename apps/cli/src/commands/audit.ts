import type { Command } from 'commander';
import { formatTime, printJson, printTable } from '../output.js';
import type { Run } from '../run.js';

interface LogOptions {
  model?: string;
  deployment?: string;
  action?: string;
  limit: string;
}

/** `slipway audit log|verify`. */
export function auditCommands(program: Command, run: Run): void {
  const audit = program.command('audit').description('the hash-chained audit log of every change');
  audit
    .command('log')
    .description('recent audit entries, newest first')
    .option('--model <name>', 'only entries about this model')
    .option('--deployment <name>', 'only entries about this deployment')
    .option('--action <action>', 'only this action, e.g. model.alias.set')
    .option('--limit <n>', 'at most this many entries', '50')
    .action(
      run(async (ctx, cmd) => {
        const opts = cmd.opts<LogOptions>();
        const targetPrefix = opts.model
          ? `model/${opts.model}`
          : opts.deployment
            ? `deployment/${opts.deployment}`
            : '';
        const { entries } = await ctx.audit().listAuditEntries({
          targetPrefix,
          action: opts.action ?? '',
          afterSeq: 0n,
          descending: true,
          limit: Number(opts.limit),
        });
        if (ctx.json) return printJson(entries);
        printTable(
          ['seq', 'time', 'actor', 'action', 'target', 'reason'],
          entries.map((e) => [String(e.seq), formatTime(e.time), e.actor, e.action, e.target, e.reason]),
        );
      }),
    );
  audit
    .command('verify')
    .description('recompute the hash chain; exits 1 and names the first bad entry if it was tampered with')
    .action(
      run(async (ctx) => {
        const res = await ctx.audit().verifyAuditLog({});
        if (ctx.json) printJson(res);
        else if (res.ok)
          process.stdout.write(
            `audit log intact: ${res.entriesChecked} entries, head ${res.headHash.slice(0, 16)}…\n`,
          );
        else
          process.stdout.write(
            `audit log TAMPERED at entry ${res.firstBadSeq}: ${res.problem} (${res.entriesChecked} entries checked)\n`,
          );
        if (!res.ok) process.exitCode = 1;
      }),
    );
}
