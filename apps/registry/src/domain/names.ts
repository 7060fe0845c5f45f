/** Naming rules shared by models, deployments, aliases, variants, schedules and workers. */

/** Model and deployment names: lower case, digits, `_ . -`; 1 to 63 characters. */
export const RESOURCE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

/** Alias names, e.g. `champion`: start with a letter, so they never read as a version number. */
export const ALIAS_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/** Aliases that would be ambiguous with version selectors. */
export const RESERVED_ALIASES: ReadonlySet<string> = new Set(['latest']);

/** Why `name` is not a valid resource name, or undefined when it is. */
export function resourceNameProblem(kind: string, name: string): string | undefined {
  if (RESOURCE_NAME.test(name)) return undefined;
  return `${kind} name "${name}" is invalid: use 1-63 characters of a-z, 0-9, "_", "." or "-", starting with a letter or digit`;
}

/** Why `alias` is not a valid alias name, or undefined when it is. */
export function aliasProblem(alias: string): string | undefined {
  if (RESERVED_ALIASES.has(alias))
    return `alias "${alias}" is reserved (it selects the newest version); choose another name`;
  if (ALIAS_NAME.test(alias)) return undefined;
  return `alias "${alias}" is invalid: use 1-63 characters of a-z, 0-9, "_" or "-", starting with a letter`;
}

/** Worker ids (inference and batch workers): letters, digits, `_ . : -`; 1 to 128 characters. */
export const WORKER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** Why `workerId` is not a valid worker id, or undefined when it is. */
export function workerIdProblem(workerId: string): string | undefined {
  if (WORKER_ID.test(workerId)) return undefined;
  return `worker_id "${workerId}" is invalid (use 1-128 characters of letters, digits, "_", ".", ":" or "-")`;
}
