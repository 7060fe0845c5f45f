import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  addressSchema,
  commaListSchema,
  durationMsSchema,
  loadConfigOrExit,
  parseConfig,
  tokenListSchema,
} from './config.js';

const schema = z.object({
  SLIPWAY_TEST_ADDR: addressSchema.default('127.0.0.1:7001'),
  SLIPWAY_TEST_DB: z.string(),
  SLIPWAY_TEST_TIMEOUT: durationMsSchema.default(5_000),
  SLIPWAY_TEST_PEERS: commaListSchema.default([]),
  SLIPWAY_TEST_TOKENS: tokenListSchema.default([]),
});

function problemsOf(fn: () => unknown): Record<string, string> {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return Object.fromEntries((err as ConfigError).problems.map((p) => [p.variable, p.message]));
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies defaults and parses the common shapes', () => {
    const config = parseConfig(schema, {
      SLIPWAY_TEST_DB: '/var/lib/slipway/test.db',
      SLIPWAY_TEST_TIMEOUT: '2s',
      SLIPWAY_TEST_PEERS: ' a:1, b:2,, ',
      SLIPWAY_TEST_TOKENS: 'tok1=alice:admin,tok2=ci:deployer',
    });
    expect(config).toEqual({
      SLIPWAY_TEST_ADDR: '127.0.0.1:7001',
      SLIPWAY_TEST_DB: '/var/lib/slipway/test.db',
      SLIPWAY_TEST_TIMEOUT: 2_000,
      SLIPWAY_TEST_PEERS: ['a:1', 'b:2'],
      SLIPWAY_TEST_TOKENS: [
        { token: 'tok1', actor: 'alice', role: 'admin' },
        { token: 'tok2', actor: 'ci', role: 'deployer' },
      ],
    });
  });

  it('lists every problem at once, by variable', () => {
    const problems = problemsOf(() =>
      parseConfig(schema, {
        SLIPWAY_TEST_ADDR: 'localhost',
        SLIPWAY_TEST_TIMEOUT: 'soon',
        SLIPWAY_TEST_TOKENS: 'secret-token=bob:root',
      }),
    );
    expect(Object.keys(problems).sort()).toEqual([
      'SLIPWAY_TEST_ADDR',
      'SLIPWAY_TEST_DB',
      'SLIPWAY_TEST_TIMEOUT',
      'SLIPWAY_TEST_TOKENS',
    ]);
    expect(problems['SLIPWAY_TEST_DB']).toMatch(/required/);
    expect(problems['SLIPWAY_TEST_ADDR']).toMatch(/host:port/);
    expect(problems['SLIPWAY_TEST_TIMEOUT']).toMatch(/duration/);
    expect(problems['SLIPWAY_TEST_TOKENS']).toMatch(/role "root"/);
    // A token is a secret: the problem names the entry, never the token.
    expect(problems['SLIPWAY_TEST_TOKENS']).not.toContain('secret-token');
  });

  it('treats blank values as unset', () => {
    const config = parseConfig(schema, {
      SLIPWAY_TEST_DB: 'x.db',
      SLIPWAY_TEST_ADDR: '',
      SLIPWAY_TEST_TIMEOUT: '   ',
    });
    expect(config.SLIPWAY_TEST_ADDR).toBe('127.0.0.1:7001');
    expect(config.SLIPWAY_TEST_TIMEOUT).toBe(5_000);
    expect(problemsOf(() => parseConfig(schema, { SLIPWAY_TEST_DB: ' ' }))).toEqual({
      SLIPWAY_TEST_DB: 'required but not set (or blank)',
    });
  });
});

describe('config schemas', () => {
  it.each(['127.0.0.1:0', '0.0.0.0:7001', 'registry.slipway.svc:7001', '[::1]:8001'])(
    'accepts address %s',
    (value) => {
      expect(addressSchema.parse(value)).toBe(value);
    },
  );

  it.each(['localhost', '127.0.0.1:', '127.0.0.1:65536', ':7001', 'a b:1'])('rejects address %s', (value) => {
    expect(addressSchema.safeParse(value).success).toBe(false);
  });

  it.each([
    ['250', 250],
    ['250ms', 250],
    ['2s', 2_000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
  ])('reads duration %s as %d ms', (value, ms) => {
    expect(durationMsSchema.parse(value)).toBe(ms);
  });
});

describe('loadConfigOrExit', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints every problem and exits non-zero', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${String(code)}`);
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(() => loadConfigOrExit(schema, 'test-app', { SLIPWAY_TEST_ADDR: 'nope' })).toThrow('exit 2');
    expect(exit).toHaveBeenCalledWith(2);
    const printed = stderr.mock.calls.map(([chunk]) => String(chunk)).join('');
    expect(printed).toContain('test-app');
    expect(printed).toContain('SLIPWAY_TEST_ADDR');
    expect(printed).toContain('SLIPWAY_TEST_DB');
  });
});
