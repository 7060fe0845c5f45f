import { describe, expect, it } from 'vitest';
import { registryConfigSchema } from './config.js';

describe('registryConfigSchema', () => {
  it('documents its defaults', () => {
    expect(registryConfigSchema.parse({})).toEqual({
      SLIPWAY_REGISTRY_ADDR: '127.0.0.1:7001',
      SLIPWAY_REGISTRY_DATA_DIR: '.slipway/registry',
      SLIPWAY_REGISTRY_LEASE_MIN_SECONDS: 2,
      SLIPWAY_REGISTRY_LEASE_MAX_SECONDS: 60,
      SLIPWAY_REGISTRY_LEASE_DEFAULT_SECONDS: 10,
      SLIPWAY_REGISTRY_WATCH_RETENTION: 10_000,
      SLIPWAY_REGISTRY_MAX_ARTIFACT_BYTES: 2 * 1024 ** 3,
      SLIPWAY_REGISTRY_DRAIN_DELAY_MS: 0,
    });
  });

  it('parses environment strings', () => {
    expect(
      registryConfigSchema.parse({
        SLIPWAY_REGISTRY_ADDR: '[::1]:0',
        SLIPWAY_REGISTRY_DATA_DIR: '/var/lib/slipway',
        SLIPWAY_REGISTRY_METRICS_ADDR: '0.0.0.0:9464',
        SLIPWAY_REGISTRY_LEASE_MIN_SECONDS: '1',
        SLIPWAY_REGISTRY_LEASE_DEFAULT_SECONDS: '5',
        SLIPWAY_REGISTRY_WATCH_RETENTION: '500',
      }),
    ).toMatchObject({
      SLIPWAY_REGISTRY_ADDR: '[::1]:0',
      SLIPWAY_REGISTRY_METRICS_ADDR: '0.0.0.0:9464',
      SLIPWAY_REGISTRY_LEASE_MIN_SECONDS: 1,
      SLIPWAY_REGISTRY_WATCH_RETENTION: 500,
    });
  });

  it('reports every invalid variable', () => {
    const result = registryConfigSchema.safeParse({
      SLIPWAY_REGISTRY_ADDR: 'localhost',
      SLIPWAY_REGISTRY_METRICS_ADDR: '1.2.3.4:99999',
      SLIPWAY_REGISTRY_WATCH_RETENTION: 'lots',
    });
    expect(result.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'SLIPWAY_REGISTRY_ADDR',
      'SLIPWAY_REGISTRY_METRICS_ADDR',
      'SLIPWAY_REGISTRY_WATCH_RETENTION',
    ]);
  });

  it('checks that the lease bounds are ordered', () => {
    const result = registryConfigSchema.safeParse({ SLIPWAY_REGISTRY_LEASE_MIN_SECONDS: '30' });
    expect(result.error?.issues).toMatchObject([
      {
        path: ['SLIPWAY_REGISTRY_LEASE_DEFAULT_SECONDS'],
        message: 'lease bounds must satisfy LEASE_MIN_SECONDS <= LEASE_DEFAULT_SECONDS <= LEASE_MAX_SECONDS',
      },
    ]);
  });
});
