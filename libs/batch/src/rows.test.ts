import { fit, parseFeatureSetSpec } from '@slipway/features';
import { InvalidArgumentError } from '@slipway/errors';
import { describe, expect, it } from 'vitest';
import type { InputItem } from './input.js';
import { buildRow, checkColumns, createRowPlan } from './rows.js';

const fitted = fit(
  parseFeatureSetSpec({
    name: 'tx',
    version: 1,
    entityKeys: ['user_id'],
    features: [
      { name: 'amount', source: { requestTime: 'amount' }, kind: 'numeric', transforms: [] },
      {
        name: 'country',
        source: { requestTime: 'country' },
        kind: 'categorical',
        transforms: [{ type: 'one-hot' }],
      },
      {
        name: 'age',
        source: { time: { field: 'signup', part: 'age_seconds', since: 'at' } },
        kind: 'numeric',
        transforms: [],
      },
      { name: 'spend', source: { field: 'spend' }, kind: 'numeric', transforms: [] },
    ],
  }),
  [{ user_id: 'u1', amount: 1, country: 'DE', signup: 0, at: 1000, spend: 3 }],
);

const item = (values: Record<string, unknown>, row = 1): InputItem => ({
  ok: true,
  row,
  value: (field) => values[field],
});

describe('rows', () => {
  const plan = createRowPlan(fitted, { idColumn: 'tx' });

  it('takes the entity keys and the request-time values, typed for their features', () => {
    expect(plan.requestFields).toEqual([
      { name: 'amount', kind: 'number' },
      { name: 'country', kind: 'text' },
      { name: 'at', kind: 'time' },
    ]);
    expect(
      buildRow(
        plan,
        item({ tx: 't1', user_id: 'u1', amount: ' 31.5', country: 7, at: '2026-01-01T00:00:00Z' }),
      ),
    ).toEqual({
      row: 1,
      id: 't1',
      entityKeys: { user_id: 'u1' },
      requestValues: {
        amount: { kind: { $case: 'number', number: 31.5 } },
        country: { kind: { $case: 'text', text: '7' } },
        at: { kind: { $case: 'text', text: '2026-01-01T00:00:00Z' } },
      },
    });
  });

  it('leaves empty values out (the feature set imputes them) and ids default to the row number', () => {
    expect(buildRow(plan, item({ user_id: 42, amount: '', country: null }, 9))).toEqual({
      row: 9,
      id: '9',
      entityKeys: { user_id: '42' },
      requestValues: {},
    });
  });

  it('rejects missing keys and values that are not what their feature reads', () => {
    const reason = (values: Record<string, unknown>) =>
      (buildRow(plan, item(values)) as { reason: string }).reason;
    expect(reason({ amount: 1 })).toBe('entity key "user_id" is missing');
    expect(reason({ user_id: '' })).toBe('entity key "user_id" is missing');
    expect(reason({ user_id: 'u', amount: '1,5' })).toBe('field "amount": "1,5" is not a number');
    expect(reason({ user_id: 'u', amount: 'NaN' })).toBe('field "amount": "NaN" is not a number');
    expect(reason({ user_id: 'u', country: ['DE'] })).toBe('field "country": ["DE"] is not a text value');
    expect(reason({ user_id: 'u', at: 'yesterday' })).toBe(
      'field "at": "yesterday" is neither epoch milliseconds nor an ISO-8601 time',
    );
    expect(buildRow(plan, { ok: false, row: 4, reason: 'bad' })).toEqual({ row: 4, reason: 'bad' });
  });

  it('reads entity keys from other columns when told', () => {
    const byColumn = createRowPlan(fitted, { entityColumns: 'uid' });
    expect(buildRow(byColumn, item({ uid: 'u7' }))).toMatchObject({ entityKeys: { user_id: 'u7' } });
    const explicit = createRowPlan(fitted, { entityColumns: { user_id: 'customer' } });
    expect(explicit.entityColumns.get('user_id')).toBe('customer');
    expect(() => createRowPlan(fitted, { entityColumns: { account: 'a' } })).toThrow(
      new InvalidArgumentError('--entity-key names "account", but feature set "tx" v1 is keyed by "user_id"'),
    );
  });

  it('checks a CSV header: a missing key column is an error, a missing request-time column a warning', () => {
    expect(checkColumns(plan, ['user_id', 'amount', 'country', 'at'], 'in.csv')).toEqual({ warnings: [] });
    const missing = checkColumns(plan, ['uid', 'amount', 'country'], 'in.csv');
    expect(missing.error).toBe(
      'input "in.csv" has no column "user_id" for entity key "user_id" (columns: uid, amount, country); name the column with --entity-key user_id=<column>',
    );
    expect(missing.warnings).toEqual([
      'input "in.csv" has no column "at" (a request-time field of the feature set): every row sends it as missing',
    ]);
  });
});
