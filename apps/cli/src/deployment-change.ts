import type { registry } from '@slipway/contracts';
import { durationMsSchema, FailedPreconditionError, NotFoundError } from '@slipway/service-kit';
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { describeStrategy, describeVariants } from './deployment-format.js';
import { UsageError } from './exit-codes.js';
import { printJson } from './output.js';
import { describeLagging, waitForRouters, type WaitForRoutersResult } from './router-wait.js';

/** Retries after a concurrent change (FAILED_PRECONDITION on expected_revision). */
const CONFLICT_RETRIES = 3;
const DEFAULT_WAIT_TIMEOUT = '10s';

/** The next desired state from the current one (undefined when the deployment does not exist). */
export type DeploymentTransform = (current: registry.Deployment | undefined) => registry.Deployment;

/** Options every deployment mutation accepts. */
export interface ChangeOptions {
  reason?: string;
  waitTimeout: string;
}

/** Adds `--reason` and `--wait-timeout`, which every deployment mutation accepts. */
export function changeOptions(cmd: Command): Command {
  return cmd
    .option('--reason <text>', 'why, for the audit log')
    .option(
      '--wait-timeout <duration>',
      'how long to wait for the routers to apply the change',
      DEFAULT_WAIT_TIMEOUT,
    );
}

/** The current state, or undefined when the deployment does not exist. */
export async function readDeployment(
  ctx: CliContext,
  name: string,
): Promise<registry.Deployment | undefined> {
  try {
    return (await ctx.deployments().getDeployment({ name })).deployment;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** What {@link applyTransform} applied. */
export interface AppliedChange {
  deployment: registry.Deployment;
  /** False when the desired state equalled the current one (no new revision). */
  changed: boolean;
  /** Concurrent changes that forced a re-read. */
  retries: number;
}

/**
 * GetDeployment → transform → ApplyDeployment with expected_revision = the revision read (-1 to
 * create). When someone else changed the deployment in between (FAILED_PRECONDITION), reads it
 * again and re-applies, up to 3 times.
 */
export async function applyTransform(
  ctx: CliContext,
  name: string,
  transform: DeploymentTransform,
  reason = '',
): Promise<AppliedChange> {
  for (let attempt = 0; ; attempt++) {
    const current = await readDeployment(ctx, name);
    let desired: registry.Deployment;
    try {
      desired = transform(current);
    } catch (err) {
      if (!current && err instanceof NotFoundError)
        throw new NotFoundError(
          `deployment "${name}" does not exist (create it with \`slipway deploy ${name} --version N\`)`,
        );
      throw err;
    }
    try {
      const res = await ctx.deployments().applyDeployment({
        deployment: desired,
        expectedRevision: current ? current.revision : -1n,
        reason,
      });
      return { deployment: res.deployment!, changed: res.changed, retries: attempt };
    } catch (err) {
      if (!(err instanceof FailedPreconditionError)) throw err;
      if (attempt >= CONFLICT_RETRIES) {
        throw new FailedPreconditionError(
          `${err.message}; gave up after ${attempt + 1} attempts because deployment "${name}" kept changing`,
        );
      }
    }
  }
}

/**
 * The one path of every deployment mutation: {@link applyTransform}, then wait until every
 * router has applied the new revision (`--wait-timeout`), then report. Routers that lag at the
 * timeout are named in a warning; the command still succeeds, since the change is applied.
 */
export async function changeDeployment(
  ctx: CliContext,
  name: string,
  transform: DeploymentTransform,
  options: ChangeOptions,
): Promise<void> {
  const timeoutMs = parseWaitTimeout(options.waitTimeout);
  const applied = await applyTransform(ctx, name, transform, options.reason ?? '');
  const { deployment } = applied;
  const revision = deployment.revision;
  let wait: WaitForRoutersResult | undefined;
  let waitError: Error | undefined;
  try {
    wait = await waitForRouters({
      list: async () => (await ctx.endpoints().listEndpoints({})).endpoints,
      revision,
      timeoutMs,
    });
  } catch (err) {
    waitError = err as Error;
  }
  if (wait?.timedOut || waitError) {
    const why = waitError
      ? `could not check the routers: ${waitError.message}`
      : `${wait!.lagging.length} of ${wait!.routers.length} router(s) have not applied revision ${revision} after ${options.waitTimeout}: ${describeLagging(wait!.lagging)}`;
    process.stderr.write(`warning: ${why} (the change is applied; they pick it up when they catch up)\n`);
  }
  if (ctx.json) {
    return printJson({
      deployment,
      changed: applied.changed,
      routers: wait?.routers ?? [],
      lagging: wait?.lagging ?? [],
    });
  }
  process.stdout.write(
    `${applied.changed ? 'deployment' : 'no change to deployment'} "${name}": ${describeStrategy(deployment)}; ${describeVariants(deployment)}\n`,
  );
  const routers =
    wait && !wait.timedOut && wait.routers.length > 0 ? `; ${wait.routers.length} router(s) converged` : '';
  process.stdout.write(`applied revision ${revision}${routers}\n`);
}

function parseWaitTimeout(text: string): number {
  const parsed = durationMsSchema.safeParse(text);
  if (!parsed.success)
    throw new UsageError(`--wait-timeout "${text}": expected a duration such as 500ms, 10s or 1m`);
  return parsed.data;
}
