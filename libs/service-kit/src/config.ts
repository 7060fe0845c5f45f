import { z } from 'zod';
import { parseTokenList } from './auth.js';

/** One thing wrong with the environment: which variable, and why. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

/** Invalid configuration. Lists every problem at once, so one restart fixes them all. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Environment variables as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses `env` with `schema`, whose keys are the variable names (`SLIPWAY_REGISTRY_ADDR`, ...).
 * A blank or whitespace-only value counts as unset, so `FOO= ` falls back to the default.
 *
 * @throws ConfigError listing every invalid or missing variable.
 */
export function parseConfig<S extends z.ZodObject>(schema: S, env: Env = process.env): z.output<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue): ConfigProblem => {
    const variable = issue.path.length > 0 ? issue.path.map(String).join('.') : '(config)';
    const missing = issue.code === 'invalid_type' && issue.path.length === 1 && input[variable] === undefined;
    return { variable, message: missing ? 'required but not set (or blank)' : issue.message };
  });
  throw new ConfigError(problems);
}

/**
 * {@link parseConfig} for `main.ts`: on invalid configuration prints every problem to stderr and
 * exits with status 2, so a misconfigured service fails fast instead of half-starting.
 */
export function loadConfigOrExit<S extends z.ZodObject>(
  schema: S,
  name: string,
  env: Env = process.env,
): z.output<S> {
  try {
    return parseConfig(schema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n`);
    return process.exit(2);
  }
}

/** `host:port`, port 0-65535 (0 = any free port); IPv6 hosts in brackets (`[::1]:7001`). */
export const addressSchema = z
  .string()
  .trim()
  .refine(isAddress, { error: 'expected host:port with a port from 0 to 65535, e.g. 127.0.0.1:7001' });

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A duration in milliseconds: `1500`, `1500ms`, `2s`, `1.5m`, `1h`. Parses to a number of ms. */
export const durationMsSchema = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(value);
    if (!match) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration such as 500, 500ms, 2s, 1m or 1h; got "${value}"`,
      });
      return z.NEVER;
    }
    return Math.round(Number(match[1]) * DURATION_UNITS_MS[match[2] ?? 'ms']!);
  });

/** A comma-separated list; items are trimmed and empty items dropped: `a, b,,c` → `['a','b','c']`. */
export const commaListSchema = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== ''),
);

/** Bearer tokens for the auth interceptor: `tok1=alice:admin,tok2=ci:deployer` (see `parseTokenList`). */
export const tokenListSchema = z.string().transform((value, ctx) => {
  try {
    return parseTokenList(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    return z.NEVER;
  }
});

function isAddress(value: string): boolean {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(value);
  return match !== null && Number(match[2]) <= 65_535;
}
