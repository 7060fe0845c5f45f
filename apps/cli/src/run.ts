import type { Command } from 'commander';
import { createCliContext, type CliContext, type GlobalOptions } from './context.js';
import { exitCodeFor, RouterUnavailableError } from './exit-codes.js';
import { UnavailableError } from '@slipway/service-kit';

/** A command body: gets the context and its own Command (`cmd.args`, `cmd.opts()`). */
export type CommandBody = (ctx: CliContext, cmd: Command) => Promise<void>;

/** Wraps a command body into a commander action. */
export type Run = (body: CommandBody) => (...args: unknown[]) => Promise<void>;

/**
 * Builds the action wrapper: creates the context from the global options, runs the body, and
 * turns any error into `error: <message>` on stderr with the exit code from {@link exitCodeFor}.
 */
export function createRun(program: Command): Run {
  return (body) =>
    async (...args) => {
      const cmd = args[args.length - 1] as Command;
      const ctx = createCliContext(program.opts<GlobalOptions>());
      try {
        await body(ctx, cmd);
      } catch (err) {
        const message =
          err instanceof UnavailableError && !(err instanceof RouterUnavailableError)
            ? `cannot reach the registry at ${ctx.registryAddress} (is \`npm start\` running? set SLIPWAY_REGISTRY_ADDR or --registry): ${err.message}`
            : (err as Error).message;
        process.stderr.write(`error: ${message}\n`);
        process.exitCode = exitCodeFor(err);
      } finally {
        ctx.close();
      }
    };
}
