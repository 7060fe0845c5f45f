import { parseFeatureSetSpec, type FeatureSetSpec } from '@slipway/features';

/**
 * The feature set of the demo fraud model, over the generator's raw transaction fields.
 *
 * The entity is the card holder (`userId`): the user-level values (`txCount24h`,
 * `accountAgeDays`, `avgAmount30d`) live in the online store, while the transaction's own values
 * (`amount`, `hourOfDay`, `merchantRisk`, `distanceKm`, `isForeign`) arrive with the request as
 * request-time values. In training both come from the row's fields of the same name.
 *
 * `hour` is bucketized at 6 because the fraud signal is "at night" (hours 0–5 → 0, 6–23 → 1);
 * heavy-tailed amounts and distances go through log1p before standardising.
 */
export const DEMO_FEATURE_SET_SPEC: FeatureSetSpec = parseFeatureSetSpec({
  name: 'demo_transactions',
  version: 1,
  entityKeys: ['userId'],
  features: [
    {
      name: 'amount',
      source: { requestTime: 'amount' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'median' }, { type: 'log1p' }, { type: 'standardize' }],
    },
    {
      name: 'hour',
      source: { requestTime: 'hourOfDay' },
      kind: 'numeric',
      transforms: [
        { type: 'impute', strategy: 'constant', value: 12 },
        { type: 'bucketize', boundaries: [6] },
      ],
    },
    {
      name: 'merchant_risk',
      source: { requestTime: 'merchantRisk' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'median' }, { type: 'standardize' }],
    },
    {
      name: 'distance_km',
      source: { requestTime: 'distanceKm' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'median' }, { type: 'log1p' }, { type: 'standardize' }],
    },
    {
      name: 'tx_count_24h',
      source: { field: 'txCount24h' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'constant', value: 0 }, { type: 'standardize' }],
      ttlSeconds: 3_600,
    },
    {
      name: 'is_foreign',
      source: { requestTime: 'isForeign' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'constant', value: 0 }],
    },
    {
      name: 'account_age_days',
      source: { field: 'accountAgeDays' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'median' }, { type: 'standardize' }],
      ttlSeconds: 86_400,
    },
    {
      name: 'avg_amount_30d',
      source: { field: 'avgAmount30d' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'median' }, { type: 'log1p' }, { type: 'standardize' }],
      ttlSeconds: 86_400,
    },
  ],
});
