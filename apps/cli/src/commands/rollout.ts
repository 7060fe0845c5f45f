import type { Command } from 'commander';
import { formatTime, printJson, printTable } from '../output.js';
import type { Run } from '../run.js';

/** The evidence the monitor writes with each rollout decision (`rollout.decision` audit entries). */
interface Evidence {
  decision?: string;
  candidate?: string;
  fromWeight?: number;
  toWeight?: number;
  numbers?: Record<string, number>;
  reasons?: string[];
}

const KEY_NUMBERS = [
  ['canaryRequests', 'n'],
  ['canaryErrorRate', 'err'],
  ['stableErrorRate', 'stable err'],
  ['canaryP99Ms', 'p99'],
  ['stableP99Ms', 'stable p99'],
  ['predictionPsi', 'psi'],
] as const;

function formatNumbers(numbers: Record<string, number> = {}): string {
  return KEY_NUMBERS.filter(([key]) => numbers[key] !== undefined)
    .map(
      ([key, label]) =>
        `${label} ${Number.isInteger(numbers[key]) ? numbers[key] : numbers[key]!.toFixed(3)}`,
    )
    .join(', ');
}

/** `slipway rollout status`: the automated release decisions of a deployment, oldest first. */
export function rolloutCommands(program: Command, run: Run): void {
  const rollout = program.command('rollout').description('automated release analysis (canary decisions)');
  rollout
    .command('status <deployment>')
    .description("the monitor's canary decisions for a deployment, with the numbers behind each")
    .option('--limit <n>', 'at most this many decisions (the newest)', '50')
    .action(
      run(async (ctx, cmd) => {
        const deployment = cmd.args[0]!;
        const { entries } = await ctx.audit().listAuditEntries({
          targetPrefix: `deployment/${deployment}`,
          action: 'rollout.decision',
          afterSeq: 0n,
          descending: true,
          limit: Number(cmd.opts<{ limit: string }>().limit),
        });
        entries.reverse();
        const decisions = entries.map((e) => ({
          entry: e,
          evidence: JSON.parse(e.afterJson || '{}') as Evidence,
        }));
        if (ctx.json)
          return printJson(
            decisions.map(({ entry, evidence }) => ({ seq: entry.seq, time: entry.time, ...evidence })),
          );
        if (decisions.length === 0) {
          process.stdout.write(`no rollout decisions for ${deployment} yet\n`);
          return;
        }
        printTable(
          ['time', 'candidate', 'decision', 'weight', 'evidence', 'why'],
          decisions.map(({ entry, evidence }) => [
            formatTime(entry.time),
            evidence.candidate ?? '',
            evidence.decision ?? '',
            `${evidence.fromWeight ?? '?'}% → ${evidence.toWeight ?? '?'}%`,
            formatNumbers(evidence.numbers),
            (evidence.reasons ?? []).join('; '),
          ]),
        );
      }),
    );
}
