import { registry, type monitor } from '@slipway/contracts';
import {
  findVariant,
  startExperiment,
  stopExperiment,
  type ExperimentArm,
  type VersionRef,
} from '@slipway/release';
import { NotFoundError } from '@slipway/service-kit';
import type { Command } from 'commander';
import { collect, parseNumber, parsePair, parsePercent, parseVersion } from '../arguments.js';
import type { CliContext } from '../context.js';
import { changeDeployment, changeOptions, type ChangeOptions } from '../deployment-change.js';
import { UsageError } from '../exit-codes.js';
import { printFields, printJson, printTable } from '../output.js';
import type { Run } from '../run.js';
import { askMonitor, formatNumber, formatPValue } from './monitor.js';

const { StrategyKind: Kind, VariantRole: Role } = registry;

/** The arms, the comparisons with the control and the sample size of a GetExperimentReport answer. */
export function printExperimentReport(r: monitor.GetExperimentReportResponse, mde: number): void {
  printFields([
    ['experiment', r.experiment],
    ['deployment', r.deployment],
    ['kpi', r.kpi],
    ['needed', `${r.requiredUnitsPerArm} units per arm to detect ${mde} (alpha 0.05, power 0.8)`],
  ]);
  process.stdout.write('\n');
  printTable(
    ['arm', 'units', 'mean', 'std dev'],
    r.arms.map((a) => [a.arm, String(a.units), formatNumber(a.mean, 4), formatNumber(a.stdDev, 4)]),
  );
  if (r.comparisons.length === 0) {
    process.stdout.write('\nno comparison yet: every arm needs at least 2 units\n');
    return;
  }
  process.stdout.write('\n');
  printTable(
    ['arm', 'vs', 'difference', '95% CI', 'p-value', 'test', 'significant'],
    r.comparisons.map((c) => [
      c.arm,
      c.control,
      formatNumber(c.difference, 4),
      `[${formatNumber(c.ciLow, 4)}, ${formatNumber(c.ciHigh, 4)}]`,
      formatPValue(c.pValue),
      c.test,
      c.significant ? 'yes' : 'no',
    ]),
  );
}

/** `slipway experiment start|stop|report`. */
export function experimentCommands(program: Command, run: Run): void {
  const experiment = program
    .command('experiment')
    .description('A/B experiments: split units (e.g. users) between model versions');
  changeOptions(
    experiment
      .command('start <name>')
      .description('replace the stable variant with experiment arms; the old stable stays loaded')
      .requiredOption('--deployment <name>', 'the deployment to run it on')
      .requiredOption(
        '--arm <name=version:weight>',
        'an arm, e.g. control=7:50 or treatment=fraud@8:50 (repeatable; weights add up to 100)',
        collect,
        [],
      )
      .requiredOption('--unit <key>', 'the request key that identifies a unit, e.g. user_id')
      .option('--salt <text>', 'assignment salt (default: the experiment name)'),
  ).action(
    run(async (ctx, cmd) => {
      const name = String(cmd.args[0]);
      const opts = cmd.opts<
        ChangeOptions & { deployment: string; arm: string[]; unit: string; salt?: string }
      >();
      const options = { name, unitKey: opts.unit, arms: opts.arm.map(parseArm), salt: opts.salt };
      await changeDeployment(ctx, opts.deployment, (current) => startExperiment(current, options), opts);
    }),
  );
  changeOptions(
    experiment
      .command('stop <name>')
      .description('end the experiment: the winning arm becomes stable at 100%')
      .option(
        '--winner <arm>',
        'the arm that becomes stable (default: the arm with the pre-experiment stable version, else the first)',
      )
      .option('--deployment <name>', 'the deployment running it (default: found by experiment name)'),
  ).action(
    run(async (ctx, cmd) => {
      const name = String(cmd.args[0]);
      const opts = cmd.opts<ChangeOptions & { winner?: string; deployment?: string }>();
      const deployment = opts.deployment ?? (await findExperimentDeployment(ctx, name));
      const stableBefore = await stableBeforeExperiment(ctx, deployment, name);
      await changeDeployment(
        ctx,
        deployment,
        (current) => {
          const running = current?.strategy?.experiment?.name;
          if (current && current.strategy?.kind === Kind.STRATEGY_KIND_EXPERIMENT && running !== name)
            throw new UsageError(`deployment "${deployment}" runs experiment "${running}", not "${name}"`);
          return stopExperiment(current, { winner: opts.winner, stableBefore });
        },
        opts,
      );
    }),
  );
  experiment
    .command('report <name>')
    .description("the experiment's KPI per arm, compared with the control (from the monitor)")
    .requiredOption('--kpi <name>', 'the KPI outcome to compare, e.g. converted or revenue')
    .option('--mde <difference>', 'smallest absolute difference worth detecting, for the sample size', '0.02')
    .option('--control <arm>', 'the baseline arm (default: "control", else the first arm assigned)')
    .action(
      run(async (ctx, cmd) => {
        const opts = cmd.opts<{ kpi: string; mde: string; control?: string }>();
        const mde = parseNumber(opts.mde, '--mde');
        if (!(mde > 0)) throw new UsageError(`--mde "${opts.mde}" must be a positive difference, e.g. 0.02`);
        const request = { experiment: String(cmd.args[0]), kpi: opts.kpi, mde, control: opts.control ?? '' };
        const response = await askMonitor(ctx, (m) => m.getExperimentReport(request));
        if (ctx.json) return printJson(response);
        printExperimentReport(response, mde);
      }),
    );
}

/** `control=7:50` or `treatment=fraud@8:50`. */
export function parseArm(text: string): ExperimentArm {
  const [name, spec] = parsePair(text, '--arm');
  const match = /^(?:([^@:]+)@)?(\d+):(\d+)$/.exec(spec);
  if (!match) throw new UsageError(`--arm "${text}" must be name=version:weight, e.g. control=7:50`);
  return {
    name,
    version: parseVersion(match[2]!, `--arm "${text}" version`),
    weight: parsePercent(match[3]!, `--arm "${text}" weight`),
    ...(match[1] ? { model: match[1] } : {}),
  };
}

async function findExperimentDeployment(ctx: CliContext, experiment: string): Promise<string> {
  const { deployments } = await ctx.deployments().listDeployments({});
  const running = deployments.filter(
    (d) => d.strategy?.kind === Kind.STRATEGY_KIND_EXPERIMENT && d.strategy.experiment?.name === experiment,
  );
  if (running.length === 0) throw new NotFoundError(`no deployment runs experiment "${experiment}"`);
  if (running.length > 1)
    throw new UsageError(
      `experiment "${experiment}" runs on ${running.map((d) => `"${d.name}"`).join(', ')}; choose one with --deployment`,
    );
  return running[0]!.name;
}

/** The stable version in the newest revision from before the experiment started, if any. */
async function stableBeforeExperiment(
  ctx: CliContext,
  deployment: string,
  experiment: string,
): Promise<VersionRef | undefined> {
  try {
    const { revisions } = await ctx.deployments().getDeploymentHistory({ name: deployment, limit: 1000 });
    const before = revisions.find(
      (d) =>
        !(d.strategy?.kind === Kind.STRATEGY_KIND_EXPERIMENT && d.strategy.experiment?.name === experiment),
    );
    return before ? findVariant(before, Role.VARIANT_ROLE_STABLE) : undefined;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}
