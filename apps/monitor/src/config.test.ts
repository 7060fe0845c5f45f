import { ConfigError, parseConfig } from '@slipway/service-kit';
import { describe, expect, it } from 'vitest';
import { monitorConfigSchema } from './config.js';

describe('monitorConfigSchema', () => {
  it('documents its defaults', () => {
    expect(parseConfig(monitorConfigSchema, {})).toEqual({
      SLIPWAY_MONITOR_ADDR: '127.0.0.1:7003',
      SLIPWAY_MONITOR_DATA_DIR: '.slipway/monitor',
      SLIPWAY_MONITOR_RETENTION_DAYS: 7,
      SLIPWAY_MONITOR_SUMMARY_RETENTION_DAYS: 90,
      SLIPWAY_MONITOR_ANALYSIS_TICK_MS: 1_000,
      SLIPWAY_MONITOR_ALERT_ERROR_RATE: 0.05,
      SLIPWAY_MONITOR_ALERT_P99_MS: 0,
      SLIPWAY_MONITOR_ALERT_DRIFT: true,
      SLIPWAY_MONITOR_ALERT_WINDOW_MS: 300_000,
      SLIPWAY_MONITOR_ALERT_INTERVAL_MS: 30_000,
      SLIPWAY_MONITOR_DRAIN_DELAY_MS: 0,
    });
  });

  it('parses environment strings; blank means unset', () => {
    expect(
      parseConfig(monitorConfigSchema, {
        SLIPWAY_MONITOR_ADDR: '0.0.0.0:0',
        SLIPWAY_MONITOR_DATA_DIR: '/var/lib/slipway/monitor',
        SLIPWAY_MONITOR_TOKENS: 'tok=router:deployer',
        SLIPWAY_MONITOR_METRICS_ADDR: ' ',
        SLIPWAY_MONITOR_RETENTION_DAYS: '30',
        SLIPWAY_MONITOR_SUMMARY_RETENTION_DAYS: '365',
        SLIPWAY_MONITOR_DRAIN_DELAY_MS: '2000',
      }),
    ).toEqual({
      SLIPWAY_MONITOR_ADDR: '0.0.0.0:0',
      SLIPWAY_MONITOR_DATA_DIR: '/var/lib/slipway/monitor',
      SLIPWAY_MONITOR_TOKENS: [{ token: 'tok', actor: 'router', role: 'deployer' }],
      SLIPWAY_MONITOR_RETENTION_DAYS: 30,
      SLIPWAY_MONITOR_SUMMARY_RETENTION_DAYS: 365,
      SLIPWAY_MONITOR_ANALYSIS_TICK_MS: 1_000,
      SLIPWAY_MONITOR_ALERT_ERROR_RATE: 0.05,
      SLIPWAY_MONITOR_ALERT_P99_MS: 0,
      SLIPWAY_MONITOR_ALERT_DRIFT: true,
      SLIPWAY_MONITOR_ALERT_WINDOW_MS: 300_000,
      SLIPWAY_MONITOR_ALERT_INTERVAL_MS: 30_000,
      SLIPWAY_MONITOR_DRAIN_DELAY_MS: 2000,
    });
  });

  it('reports every invalid variable', () => {
    let error: unknown;
    try {
      parseConfig(monitorConfigSchema, {
        SLIPWAY_MONITOR_ADDR: 'localhost',
        SLIPWAY_MONITOR_TOKENS: 'tok=router:owner',
        SLIPWAY_MONITOR_RETENTION_DAYS: '0',
        SLIPWAY_MONITOR_METRICS_ADDR: 'nope',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
      'SLIPWAY_MONITOR_ADDR',
      'SLIPWAY_MONITOR_METRICS_ADDR',
      'SLIPWAY_MONITOR_RETENTION_DAYS',
      'SLIPWAY_MONITOR_TOKENS',
    ]);
  });
});
