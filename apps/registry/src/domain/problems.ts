import { InvalidArgumentError } from '@slipway/errors';

/**
 * One InvalidArgumentError listing every problem found, so a caller fixes them all in one round:
 * `deployment "fraud" is invalid (2 problems): 1) ...; 2) ...`.
 */
export function invalidArgument(subject: string, problems: readonly string[]): InvalidArgumentError {
  if (problems.length === 1) return new InvalidArgumentError(`${subject}: ${problems[0]}`);
  return new InvalidArgumentError(
    `${subject} (${problems.length} problems): ${problems.map((p, i) => `${i + 1}) ${p}`).join('; ')}`,
  );
}
