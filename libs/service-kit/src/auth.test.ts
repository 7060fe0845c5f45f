import { describe, expect, it } from 'vitest';
import { createTokenVerifier, parseTokenList, roleSatisfies } from './auth.js';
import { InvalidArgumentError } from './errors.js';

describe('parseTokenList', () => {
  it('reads token=actor:role entries, tolerating spaces and base64 padding in tokens', () => {
    expect(parseTokenList(' dG9r== = alice : admin , tok2=ci:reader,')).toEqual([
      { token: 'dG9r==', actor: 'alice', role: 'admin' },
      { token: 'tok2', actor: 'ci', role: 'reader' },
    ]);
  });

  it('reports every malformed entry without echoing tokens', () => {
    let err: unknown;
    try {
      parseTokenList('s3cret,tok=bob:root,tok=eve:admin');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    const message = (err as Error).message;
    expect(message).toContain('token entry 1');
    expect(message).toContain('role "root"');
    expect(message).toContain('listed twice');
    expect(message).not.toContain('s3cret');
  });
});

describe('roles and tokens', () => {
  it('orders roles reader < deployer < admin', () => {
    expect(roleSatisfies('admin', 'deployer')).toBe(true);
    expect(roleSatisfies('deployer', 'deployer')).toBe(true);
    expect(roleSatisfies('reader', 'deployer')).toBe(false);
    expect(roleSatisfies(undefined, 'none')).toBe(true);
    expect(roleSatisfies(undefined, 'reader')).toBe(false);
  });

  it('resolves known tokens only', () => {
    const verifier = createTokenVerifier(parseTokenList('a=alice:admin,b=bob:reader'));
    expect(verifier.verify('b')).toEqual({ actor: 'bob', role: 'reader' });
    expect(verifier.verify('c')).toBeUndefined();
    expect(verifier.verify('')).toBeUndefined();
  });
});
