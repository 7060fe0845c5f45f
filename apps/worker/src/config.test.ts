import { DEFAULT_MAX_MESSAGE_BYTES, parseConfig } from '@slipway/service-kit';
import { describe, expect, it } from 'vitest';
import { defaultWorkerId, envWithArgs, workerConfigSchema } from './config.js';
import { resolveLoadSettings } from './load-settings.js';

describe('workerConfigSchema', () => {
  it('documents its defaults', () => {
    const config = parseConfig(workerConfigSchema, {});
    expect(config).toEqual({
      SLIPWAY_WORKER_ADDR: '127.0.0.1:7010',
      SLIPWAY_REGISTRY_ADDR: '127.0.0.1:7001',
      SLIPWAY_WORKER_ID: defaultWorkerId(),
      SLIPWAY_WORKER_DATA_DIR: '.slipway/worker',
      SLIPWAY_WORKER_HEARTBEAT_MS: 2000,
      SLIPWAY_WORKER_MAX_BATCH_SIZE: 64,
      SLIPWAY_WORKER_MAX_QUEUE_DELAY_US: 500,
      SLIPWAY_WORKER_EXECUTOR: 'auto',
      SLIPWAY_WORKER_INTRA_OP_THREADS: 1,
      SLIPWAY_WORKER_MAX_MESSAGE_BYTES: DEFAULT_MAX_MESSAGE_BYTES,
      SLIPWAY_WORKER_DRAIN_DELAY_MS: 0,
    });
    expect(config.SLIPWAY_WORKER_ID).toMatch(new RegExp(`^worker-.+-${process.pid}$`));
  });

  it('parses environment strings', () => {
    expect(
      parseConfig(workerConfigSchema, {
        SLIPWAY_WORKER_ADDR: '0.0.0.0:0',
        SLIPWAY_WORKER_MODELS: ' ./models ',
        SLIPWAY_WORKER_DEPLOYMENTS: 'fraud, churn,,',
        SLIPWAY_WORKER_HEARTBEAT_MS: '5s',
        SLIPWAY_WORKER_MAX_BATCH_SIZE: '0',
        SLIPWAY_WORKER_EXECUTOR: 'worker-threads',
        SLIPWAY_WORKER_THREADS: '2',
        SLIPWAY_WORKER_INTRA_OP_THREADS: '1',
        SLIPWAY_WORKER_GRAPH_OPTIMIZATION: 'basic',
        SLIPWAY_WORKER_TOKEN: '',
      }),
    ).toMatchObject({
      SLIPWAY_WORKER_ADDR: '0.0.0.0:0',
      SLIPWAY_WORKER_MODELS: './models',
      SLIPWAY_WORKER_DEPLOYMENTS: ['fraud', 'churn'],
      SLIPWAY_WORKER_HEARTBEAT_MS: 5000,
      SLIPWAY_WORKER_MAX_BATCH_SIZE: 0,
      SLIPWAY_WORKER_EXECUTOR: 'worker-threads',
      SLIPWAY_WORKER_THREADS: 2,
      SLIPWAY_WORKER_INTRA_OP_THREADS: 1,
      SLIPWAY_WORKER_GRAPH_OPTIMIZATION: 'basic',
    });
  });

  it('reports every invalid variable', () => {
    const result = workerConfigSchema.safeParse({
      SLIPWAY_WORKER_ADDR: 'localhost',
      SLIPWAY_WORKER_EXECUTOR: 'gpu',
      SLIPWAY_WORKER_MAX_BATCH_SIZE: '-1',
      SLIPWAY_WORKER_HEARTBEAT_MS: '10',
      SLIPWAY_WORKER_ID: 'has space',
    });
    expect(result.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'SLIPWAY_WORKER_ADDR',
      'SLIPWAY_WORKER_EXECUTOR',
      'SLIPWAY_WORKER_HEARTBEAT_MS',
      'SLIPWAY_WORKER_ID',
      'SLIPWAY_WORKER_MAX_BATCH_SIZE',
    ]);
  });

  it('makes a worker id the registry accepts from any host name', () => {
    expect(defaultWorkerId('gpu box #1', 42)).toBe('worker-gpu-box--1-42');
  });

  it('takes --models and --addr from the command line', () => {
    expect(envWithArgs(['--models', './dir', '--addr', '127.0.0.1:0'], { OTHER: 'x' })).toEqual({
      OTHER: 'x',
      SLIPWAY_WORKER_MODELS: './dir',
      SLIPWAY_WORKER_ADDR: '127.0.0.1:0',
    });
    expect(() => envWithArgs(['--model', 'x'], {})).toThrow(/--model/);
  });
});

describe('load settings', () => {
  const config = parseConfig(workerConfigSchema, { SLIPWAY_WORKER_INTRA_OP_THREADS: '1' });

  it('batches by default and runs requests alone when the maximum is 0 or 1', () => {
    expect(resolveLoadSettings(config, {})).toEqual({
      batching: { maxBatchSize: 64, maxQueueDelayMicros: 500 },
      executor: { kind: 'auto' },
      sessionOptions: { intraOpNumThreads: 1 },
    });
    expect(resolveLoadSettings(config, { maxBatchSize: 1 }).batching).toBeUndefined();
    expect(resolveLoadSettings(config, { maxBatchSize: 0 }).batching).toBeUndefined();
  });

  it('applies per-model overrides', () => {
    expect(
      resolveLoadSettings(config, {
        maxBatchSize: 16,
        maxQueueDelayMicros: 100,
        preferredBatchSizes: [8, 16],
        executor: 'worker-threads',
        threads: 2,
      }),
    ).toMatchObject({
      batching: { maxBatchSize: 16, maxQueueDelayMicros: 100, preferredBatchSizes: [8, 16] },
      executor: { kind: 'worker-threads', threads: 2 },
    });
    expect(() => resolveLoadSettings(config, { maxBatchSize: 4, preferredBatchSizes: [8] })).toThrow(
      'preferredBatchSizes [8] exceed maxBatchSize 4',
    );
  });
});
