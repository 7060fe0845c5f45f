import { describe, expect, it } from 'vitest';
import { UsageError } from '../exit-codes.js';
import { buildPredictRequest, parseValue } from './predict.js';

describe('predict arguments', () => {
  it('sends entities as keys, numeric values as numbers and the rest as text', () => {
    expect(
      buildPredictRequest('fraud', {
        entity: ['user_id=u42', 'merchant_id=m=7'],
        value: ['amount=31.5', 'country=DE', 'delta=-2e-3', 'code=007', 'hex=0x10', 'blank='],
        version: '3',
      }),
    ).toEqual({
      deployment: 'fraud',
      entityKeys: { user_id: 'u42', merchant_id: 'm=7' },
      values: {
        amount: { kind: { $case: 'number', number: 31.5 } },
        country: { kind: { $case: 'text', text: 'DE' } },
        delta: { kind: { $case: 'number', number: -0.002 } },
        code: { kind: { $case: 'number', number: 7 } },
        hex: { kind: { $case: 'text', text: '0x10' } },
        blank: { kind: { $case: 'text', text: '' } },
      },
      version: 3,
    });
  });

  it('lets the strategy choose without --version', () => {
    expect(buildPredictRequest('fraud', { entity: [], value: [] })).toMatchObject({ version: 0 });
  });

  it('keeps non-finite numbers as text', () => {
    expect(parseValue('NaN')).toEqual({ kind: { $case: 'text', text: 'NaN' } });
    expect(parseValue('Infinity')).toEqual({ kind: { $case: 'text', text: 'Infinity' } });
    expect(parseValue('1e999')).toEqual({ kind: { $case: 'text', text: '1e999' } });
  });

  it('refuses malformed pairs and versions', () => {
    const build =
      (entity: string[], value: string[] = [], version?: string) =>
      () =>
        buildPredictRequest('fraud', { entity, value, ...(version === undefined ? {} : { version }) });
    expect(build(['u42'])).toThrow(new UsageError('--entity "u42" must be key=value'));
    expect(build(['=u42'])).toThrow(UsageError);
    expect(build(['user_id='])).toThrow(new UsageError('--entity "user_id=" has an empty value'));
    expect(build([], ['amount'])).toThrow(new UsageError('--value "amount" must be key=value'));
    expect(build([], [], 'seven')).toThrow(
      new UsageError('--version "seven" is not a version number (1 or more)'),
    );
  });
});
