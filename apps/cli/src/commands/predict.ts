import type { serving } from '@slipway/contracts';
import { UnavailableError } from '@slipway/service-kit';
import type { Command } from 'commander';
import { collect, DECIMAL, parsePair, parseVersion } from '../arguments.js';
import { RouterUnavailableError, UsageError } from '../exit-codes.js';
import { printFields, printJson } from '../output.js';
import type { Run } from '../run.js';

/** The options of `slipway predict`, as commander collects them. */
export interface PredictArguments {
  entity: string[];
  value: string[];
  version?: string;
}

/** `slipway predict`. */
export function predictCommand(program: Command, run: Run): void {
  program
    .command('predict <deployment>')
    .description('one prediction through the router (feature lookup, release strategy, model)')
    .option('--entity <key=value>', 'an entity key, e.g. user_id=u42 (repeatable)', collect, [])
    .option(
      '--value <key=value>',
      'a request-time value, e.g. amount=31.5 or country=DE (repeatable)',
      collect,
      [],
    )
    .option('--version <n>', 'pin a model version, bypassing the release strategy')
    .action(
      run(async (ctx, cmd) => {
        const request = buildPredictRequest(String(cmd.args[0]), cmd.opts<PredictArguments>());
        let response: serving.PredictResponse;
        try {
          response = await ctx.predictions().predict(request);
        } catch (err) {
          if (err instanceof UnavailableError)
            throw new RouterUnavailableError(
              `router at ${ctx.routerAddress} is unavailable: ${err.message} (is it running with a ready replica? set SLIPWAY_ROUTER_ADDR or --router)`,
              { cause: err },
            );
          throw err;
        }
        if (ctx.json) return printJson(response);
        const statuses = Object.entries(response.featureStatus)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([feature, status]) => `${feature}=${status}`)
          .join(' ');
        printFields([
          ['scores', response.scores.map((s) => Number(s.toPrecision(6))).join(' ')],
          ['model', `${response.model}@${response.version}`],
          ['variant', response.variant],
          ['experiment', response.experiment],
          ['request id', response.requestId],
          ['features', statuses],
        ]);
      }),
    );
}

/**
 * The PredictRequest for the command line: `--entity key=value` pairs as entity keys,
 * `--value key=value` pairs as numbers when they read as finite decimals, else as text.
 */
export function buildPredictRequest(deployment: string, args: PredictArguments): serving.PredictRequest {
  const entityKeys: Record<string, string> = {};
  for (const text of args.entity) {
    const [key, value] = parsePair(text, '--entity');
    if (value === '') throw new UsageError(`--entity "${text}" has an empty value`);
    entityKeys[key] = value;
  }
  const values: Record<string, serving.Value> = {};
  for (const text of args.value) {
    const [key, value] = parsePair(text, '--value');
    values[key] = parseValue(value);
  }
  return {
    deployment,
    entityKeys,
    values,
    version: args.version === undefined ? 0 : parseVersion(args.version, '--version'),
  };
}

/** `31.5` → number, `DE` → text; `0x10`, `NaN` and `Infinity` stay text. */
export function parseValue(text: string): serving.Value {
  return DECIMAL.test(text.trim()) && Number.isFinite(Number(text))
    ? { kind: { $case: 'number', number: Number(text) } }
    : { kind: { $case: 'text', text } };
}
