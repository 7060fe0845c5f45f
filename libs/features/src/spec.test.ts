import { InvalidArgumentError } from '@slipway/errors';
import { describe, expect, it } from 'vitest';
import { parseFeatureSetSpec, type FeatureSetSpec } from './index.js';
import { goldenSpec } from './test-support/golden.js';

const base = {
  name: 'txn',
  version: 1,
  entityKeys: ['user_id'],
  features: [
    { name: 'amount', source: { field: 'amount' }, kind: 'numeric', transforms: [{ type: 'log1p' }] },
  ],
};

function withFeature(feature: Record<string, unknown>): unknown {
  return { ...base, features: [...base.features, feature] };
}

function rejection(input: unknown): string {
  try {
    parseFeatureSetSpec(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as Error).message;
  }
  throw new Error('spec was accepted');
}

describe('parseFeatureSetSpec', () => {
  it('accepts the golden spec and fills defaults', () => {
    const spec = parseFeatureSetSpec(JSON.parse(JSON.stringify(goldenSpec)));
    expect(spec.features[8]!.transforms[0]).toEqual({ type: 'hash-bucket', buckets: 8, output: 'index' });
  });

  it.each([
    [{ ...base, version: 0 }, 'version: Too small'],
    [{ ...base, entityKeys: [] }, 'entityKeys: Too small'],
    [{ ...base, extra: 1 }, '(root): Unrecognized key: "extra"'],
    [
      withFeature({ name: '9lives', source: { field: 'x' }, kind: 'numeric', transforms: [] }),
      'features[1].name: must start with a letter',
    ],
    [
      withFeature({
        name: 'm',
        source: { field: 'm' },
        kind: 'categorical',
        transforms: [{ type: 'hash-bucket', buckets: 0 }],
      }),
      'features[1].transforms[0].buckets: Too small',
    ],
    [
      withFeature({
        name: 'm',
        source: { field: 'm' },
        kind: 'categorical',
        transforms: [{ type: 'hash-bucket', bukets: 8 }],
      }),
      'features[1].transforms[0]: Unrecognized key: "bukets"',
    ],
    [
      withFeature({ name: 'm', source: { field: 'm' }, kind: 'numeric', transforms: [{ type: 'scale' }] }),
      'features[1].transforms[0].type: Invalid discriminator value',
    ],
    [
      withFeature({ name: 'm', source: { field: 'm', requestTime: 'm' }, kind: 'numeric', transforms: [] }),
      'features[1].source: must have exactly one of',
    ],
    [
      withFeature({
        name: 'm',
        source: { time: { field: 't', part: 'hour', since: 'now' } },
        kind: 'numeric',
        transforms: [],
      }),
      'features[1].source.time.since: "since" only applies',
    ],
    [
      withFeature({
        name: 'm',
        source: { field: 'm' },
        kind: 'numeric',
        transforms: [{ type: 'bucketize', boundaries: [2, 1] }],
      }),
      'features[1].transforms[0].boundaries: must be strictly increasing',
    ],
    [
      withFeature({
        name: 'm',
        source: { field: 'm' },
        kind: 'numeric',
        transforms: [{ type: 'bucketize', boundaries: [1], quantiles: 4 }],
      }),
      'exactly one of "boundaries" or "quantiles"',
    ],
    [
      withFeature({
        name: 'm',
        source: { field: 'm' },
        kind: 'numeric',
        transforms: [{ type: 'clip', min: 2, max: 1 }],
      }),
      'features[1].transforms[0].min: "min" must not exceed "max"',
    ],
    [
      withFeature({
        name: 'm',
        source: { field: 'm' },
        kind: 'numeric',
        transforms: [{ type: 'impute', strategy: 'constant' }],
      }),
      'features[1].transforms[0].value: strategy "constant" needs "value"',
    ],
    [
      withFeature({
        name: 'm',
        source: { field: 'm' },
        kind: 'numeric',
        transforms: [{ type: 'log1p' }, { type: 'impute', strategy: 'mean' }],
      }),
      'features[1].transforms[1]: feature "m": impute must be the first transform',
    ],
    [
      withFeature({
        name: 'm',
        source: { field: 'm' },
        kind: 'numeric',
        transforms: [{ type: 'impute', strategy: 'constant', value: 'x' }],
      }),
      'feature "m": a numeric feature imputes a number',
    ],
    [
      withFeature({
        name: 'm',
        source: { field: 'm' },
        kind: 'categorical',
        transforms: [{ type: 'impute', strategy: 'mean' }, { type: 'one-hot' }],
      }),
      'feature "m": impute "mean" needs kind "numeric"',
    ],
    [
      withFeature({ name: 'm', source: { field: 'm' }, kind: 'numeric', transforms: [{ type: 'one-hot' }] }),
      'feature "m": one-hot needs kind "categorical"',
    ],
    [
      withFeature({
        name: 'm',
        source: { field: 'm' },
        kind: 'categorical',
        transforms: [{ type: 'log1p' }, { type: 'one-hot' }],
      }),
      'feature "m": log1p needs kind "numeric"',
    ],
    [
      withFeature({ name: 'm', source: { field: 'm' }, kind: 'categorical', transforms: [] }),
      'features[1].transforms: feature "m": a categorical feature must end with one-hot or hash-bucket',
    ],
    [
      withFeature({
        name: 'm',
        source: { field: 'm' },
        kind: 'categorical',
        transforms: [{ type: 'one-hot' }, { type: 'hash-bucket', buckets: 2 }],
      }),
      'feature "m": one-hot must be the last transform',
    ],
    [
      withFeature({ name: 'amount', source: { field: 'x' }, kind: 'numeric', transforms: [] }),
      'features[1].name: feature "amount" is defined twice',
    ],
    [
      withFeature({ name: 'amount__log1p', source: { field: 'x' }, kind: 'numeric', transforms: [] }),
      'column "amount__log1p" collides with feature "amount"',
    ],
    [
      withFeature({ name: 'm', source: { field: 'm' }, kind: 'numeric', transforms: [], ttlSeconds: 0 }),
      'features[1].ttlSeconds: Too small',
    ],
  ])('rejects a bad spec: %#', (input, message) => {
    expect(rejection(input)).toContain(message);
  });

  it('lists every problem at once', () => {
    const message = rejection({ ...base, version: -1, entityKeys: 'user_id' });
    expect(message).toContain('version:');
    expect(message).toContain('entityKeys:');
  });

  it('is also applied by fit to typed specs', async () => {
    const { fit } = await import('./index.js');
    const bad = { ...base, version: 1.5 } as unknown as FeatureSetSpec;
    expect(() => fit(bad, [])).toThrow(/version: Invalid input: expected int/);
  });
});
