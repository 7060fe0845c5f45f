import { registry } from '@slipway/contracts';
import {
  deployBlueGreen,
  deployCanary,
  deployDirect,
  findVariant,
  promote,
  rollback,
  setCanaryWeight,
} from '@slipway/release';
import { durationMsSchema } from '@slipway/service-kit';
import type { Command } from 'commander';
import { changeDeployment, changeOptions, type ChangeOptions } from '../deployment-change.js';
import { UsageError } from '../exit-codes.js';
import type { Run } from '../run.js';
import { parseNumber, parsePercent, parseVersion } from '../arguments.js';

const STRATEGIES = ['direct', 'blue-green', 'canary'] as const;
type StrategyName = (typeof STRATEGIES)[number];
const DEFAULT_STEPS = '5,25,50,100';
const DEFAULT_INTERVAL = '60s';

interface DeployOptions extends ChangeOptions {
  version: string;
  model?: string;
  strategy: string;
  steps?: string;
  interval?: string;
  maxErrorRate?: string;
  maxP99Ms?: string;
  maxPredictionPsi?: string;
}

/** `slipway deploy|promote|rollback` and `slipway canary set-weight`. */
export function releaseCommands(program: Command, run: Run): void {
  changeOptions(
    program
      .command('deploy <deployment>')
      .description('release a model version: directly, blue-green, or as a canary (creates the deployment)')
      .requiredOption('--version <n>', 'the model version to release')
      .option('--model <name>', "model name (default: the deployment's stable model, or the deployment name)")
      .option('--strategy <kind>', `${STRATEGIES.join(' | ')}`, 'direct')
      .option('--steps <percents>', `canary weight steps, ascending to 100 (default ${DEFAULT_STEPS})`)
      .option('--interval <duration>', `canary time per step (default ${DEFAULT_INTERVAL}; 0 = manual)`)
      .option('--max-error-rate <rate>', 'canary: abort above this error rate (0..1)')
      .option('--max-p99-ms <ms>', 'canary: abort above this p99 latency')
      .option('--max-prediction-psi <psi>', 'canary: abort above this prediction drift (PSI)'),
  ).action(
    run(async (ctx, cmd) => {
      const name = String(cmd.args[0]);
      const opts = cmd.opts<DeployOptions>();
      const strategy = parseStrategy(opts.strategy);
      const version = parseVersion(opts.version, '--version');
      const canaryFlags = (
        ['steps', 'interval', 'maxErrorRate', 'maxP99Ms', 'maxPredictionPsi'] as const
      ).filter((key) => opts[key] !== undefined);
      if (strategy !== 'canary' && canaryFlags.length > 0)
        throw new UsageError(
          `--${canaryFlags.map(kebab).join(', --')} applies to --strategy canary only (the strategy is ${strategy})`,
        );
      if (strategy === 'direct') {
        await changeDeployment(
          ctx,
          name,
          (current) => {
            const base = current
              ? (findVariant(current, registry.VariantRole.VARIANT_ROLE_STABLE) ??
                findVariant(current, registry.VariantRole.VARIANT_ROLE_ARM))
              : undefined;
            return deployDirect(current, name, { model: opts.model ?? base?.model ?? name, version });
          },
          opts,
        );
      } else if (strategy === 'blue-green') {
        await changeDeployment(
          ctx,
          name,
          (current) => deployBlueGreen(current, { version, model: opts.model }),
          opts,
        );
      } else {
        const canary = {
          version,
          model: opts.model,
          steps: parseSteps(opts.steps ?? DEFAULT_STEPS),
          intervalSeconds: parseInterval(opts.interval ?? DEFAULT_INTERVAL),
          maxErrorRate: optionalNumber(opts.maxErrorRate, '--max-error-rate'),
          maxP99Ms: optionalNumber(opts.maxP99Ms, '--max-p99-ms'),
          maxPredictionPsi: optionalNumber(opts.maxPredictionPsi, '--max-prediction-psi'),
        };
        await changeDeployment(ctx, name, (current) => deployCanary(current, canary), opts);
      }
    }),
  );

  changeOptions(
    program
      .command('promote <deployment>')
      .description('make the candidate stable at 100%; the old stable stays loaded as previous'),
  ).action(
    run(async (ctx, cmd) => {
      await changeDeployment(ctx, String(cmd.args[0]), promote, cmd.opts<ChangeOptions>());
    }),
  );

  changeOptions(
    program
      .command('rollback <deployment>')
      .description(
        'drop the candidate; without one, swap back to the previous version (again rolls forward)',
      ),
  ).action(
    run(async (ctx, cmd) => {
      await changeDeployment(ctx, String(cmd.args[0]), rollback, cmd.opts<ChangeOptions>());
    }),
  );

  const canary = program.command('canary').description('steer a running canary or blue-green release');
  changeOptions(
    canary
      .command('set-weight <deployment> <weight>')
      .description("set the candidate's share of traffic (0-100); the stable keeps the rest"),
  ).action(
    run(async (ctx, cmd) => {
      const [name, weightText] = cmd.args as [string, string];
      const weight = parsePercent(weightText, 'weight');
      await changeDeployment(
        ctx,
        name,
        (current) => setCanaryWeight(current, weight),
        cmd.opts<ChangeOptions>(),
      );
    }),
  );
}

function parseStrategy(text: string): StrategyName {
  if ((STRATEGIES as readonly string[]).includes(text)) return text as StrategyName;
  throw new UsageError(`--strategy "${text}" is not one of ${STRATEGIES.join(', ')}`);
}

function parseSteps(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p)))
    throw new UsageError(
      `--steps "${text}" must be comma-separated whole percentages, e.g. ${DEFAULT_STEPS}`,
    );
  return parts.map(Number);
}

function parseInterval(text: string): number {
  const parsed = durationMsSchema.safeParse(text);
  if (!parsed.success || parsed.data % 1000 !== 0)
    throw new UsageError(`--interval "${text}" must be whole seconds, e.g. 30s, 5m or 0 (manual steps)`);
  return parsed.data / 1000;
}

function optionalNumber(text: string | undefined, flag: string): number | undefined {
  return text === undefined ? undefined : parseNumber(text, flag);
}

function kebab(key: string): string {
  return key.replace(/[A-Z0-9]+/g, (m) => `-${m.toLowerCase()}`);
}
