import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';

/** Roles, weakest first: each one may do everything the ones before it may. */
export const ROLES = ['reader', 'deployer', 'admin'] as const;

/** What a caller is allowed to do. */
export type Role = (typeof ROLES)[number];

/** What a method asks of its caller: nothing (`none`) or at least a role. */
export type RequiredRole = 'none' | Role;

/** Who a bearer token stands for. */
export interface Principal {
  actor: string;
  role: Role;
}

/** One accepted bearer token and the principal it stands for. */
export interface AuthToken extends Principal {
  token: string;
}

/** Bearer-token authentication for a service server. */
export interface AuthOptions {
  tokens: readonly AuthToken[];
}

/** True when `role` is at least `required` (reader < deployer < admin). */
export function roleSatisfies(role: Role | undefined, required: RequiredRole): boolean {
  if (required === 'none') return true;
  return role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/**
 * Parses `tok1=alice:admin,tok2=ci:deployer` into tokens. Entries are `token=actor:role`; the
 * token may itself contain `=` (base64 padding), the actor may not. Error messages name the
 * entry by position and actor, never by token, so secrets do not end up in logs.
 *
 * @throws InvalidArgumentError listing every malformed entry.
 */
export function parseTokenList(text: string): AuthToken[] {
  const tokens: AuthToken[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  entries.forEach((entry, index) => {
    const where = `token entry ${index + 1}`;
    const before = problems.length;
    const eq = entry.lastIndexOf('=');
    const colon = entry.lastIndexOf(':');
    if (eq <= 0 || colon < eq) {
      problems.push(`${where}: expected token=actor:role`);
      return;
    }
    const token = entry.slice(0, eq).trim();
    const actor = entry.slice(eq + 1, colon).trim();
    const role = entry.slice(colon + 1).trim();
    if (actor === '') problems.push(`${where}: actor is empty`);
    if (!(ROLES as readonly string[]).includes(role)) {
      problems.push(`${where} (${actor || 'no actor'}): role "${role}" is not one of ${ROLES.join(', ')}`);
    }
    if (seen.has(token)) problems.push(`${where} (${actor}): the same token is listed twice`);
    seen.add(token);
    if (problems.length === before) tokens.push({ token, actor, role: role as Role });
  });
  if (problems.length > 0) throw new InvalidArgumentError(problems.join('; '));
  return tokens;
}

/** Resolves bearer tokens to principals. */
export interface TokenVerifier {
  /** The principal of `token`, or undefined when the token is unknown. */
  verify(token: string): Principal | undefined;
}

/**
 * A verifier over `tokens`. Tokens are compared as SHA-256 digests with `timingSafeEqual`, and
 * every entry is compared, so neither the token's length nor its position leaks through timing.
 */
export function createTokenVerifier(tokens: readonly AuthToken[]): TokenVerifier {
  const entries = tokens.map(({ token, actor, role }) => ({
    digest: digest(token),
    principal: { actor, role },
  }));
  return {
    verify(token) {
      const candidate = digest(token);
      let found: Principal | undefined;
      for (const entry of entries) {
        if (timingSafeEqual(entry.digest, candidate) && found === undefined) found = entry.principal;
      }
      return found;
    },
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
