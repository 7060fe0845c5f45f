import { describe, expect, it } from 'vitest';
import { ConfigError } from '@slipway/service-kit';
import { parseBenchConfig } from './config.js';

describe('parseBenchConfig', () => {
  it('defaults to 5 s windows at concurrency 1 and 64 over 4 channels', () => {
    expect(parseBenchConfig({})).toEqual({
      windowMs: 5000,
      warmupMs: 2000,
      channels: 4,
      concurrencies: [1, 64],
      only: [],
      quick: false,
      workerNodeArgs: [],
      workerEnv: {},
    });
  });

  it('shortens windows with BENCH_QUICK, and BENCH_SECONDS still wins', () => {
    expect(parseBenchConfig({ BENCH_QUICK: '1' })).toMatchObject({
      windowMs: 1000,
      warmupMs: 500,
      quick: true,
    });
    expect(parseBenchConfig({ BENCH_QUICK: '1', BENCH_SECONDS: '2.5' }).windowMs).toBe(2500);
  });

  it('reads lists, treats blank as unset', () => {
    expect(
      parseBenchConfig({ BENCH_CONCURRENCY: '64, 1,16,64', BENCH_ONLY: 'tiny, echo', BENCH_SECONDS: ' ' }),
    ).toMatchObject({ concurrencies: [1, 16, 64], only: ['tiny', 'echo'], windowMs: 5000 });
    expect(
      parseBenchConfig({ BENCH_WORKER_NODE_ARGS: ' --cpu-prof  --cpu-prof-dir=x ' }).workerNodeArgs,
    ).toEqual(['--cpu-prof', '--cpu-prof-dir=x']);
  });

  it('lists every invalid variable at once', () => {
    let error: unknown;
    try {
      parseBenchConfig({ BENCH_SECONDS: '-1', BENCH_CHANNELS: 'many', BENCH_CONCURRENCY: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
      'BENCH_CHANNELS',
      'BENCH_CONCURRENCY.0',
      'BENCH_SECONDS',
    ]);
  });
});
