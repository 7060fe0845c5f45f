import { ConfigError, parseConfig } from '@slipway/service-kit';
import { describe, expect, it } from 'vitest';
import { featuresConfigSchema } from './config.js';

describe('featuresConfigSchema', () => {
  it('documents its defaults', () => {
    expect(parseConfig(featuresConfigSchema, {})).toEqual({
      SLIPWAY_FEATURES_ADDR: '127.0.0.1:7002',
      SLIPWAY_FEATURES_DATA_DIR: '.slipway/features',
      SLIPWAY_FEATURES_DRAIN_DELAY_MS: 0,
    });
  });

  it('parses environment strings; blank means unset', () => {
    expect(
      parseConfig(featuresConfigSchema, {
        SLIPWAY_FEATURES_ADDR: '0.0.0.0:0',
        SLIPWAY_FEATURES_DATA_DIR: '/var/lib/slipway/features',
        SLIPWAY_FEATURES_TOKENS: 'tok=ci:deployer',
        SLIPWAY_FEATURES_METRICS_ADDR: ' ',
        SLIPWAY_FEATURES_DRAIN_DELAY_MS: '2000',
      }),
    ).toEqual({
      SLIPWAY_FEATURES_ADDR: '0.0.0.0:0',
      SLIPWAY_FEATURES_DATA_DIR: '/var/lib/slipway/features',
      SLIPWAY_FEATURES_TOKENS: [{ token: 'tok', actor: 'ci', role: 'deployer' }],
      SLIPWAY_FEATURES_DRAIN_DELAY_MS: 2000,
    });
  });

  it('reports every invalid variable', () => {
    let error: unknown;
    try {
      parseConfig(featuresConfigSchema, {
        SLIPWAY_FEATURES_ADDR: 'localhost',
        SLIPWAY_FEATURES_TOKENS: 'tok=ci:owner',
        SLIPWAY_FEATURES_DRAIN_DELAY_MS: '-1',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
      'SLIPWAY_FEATURES_ADDR',
      'SLIPWAY_FEATURES_DRAIN_DELAY_MS',
      'SLIPWAY_FEATURES_TOKENS',
    ]);
  });
});
