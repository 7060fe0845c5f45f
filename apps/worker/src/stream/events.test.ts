import { describe, expect, it } from 'vitest';
import {
  checkEntityKeys,
  encodePrediction,
  fallbackEventId,
  parseEvent,
  PoisonEventError,
} from './events.js';

const bytes = (value: unknown): Uint8Array =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('parseEvent', () => {
  it('reads id, entity keys and request-time values', () => {
    const event = parseEvent(
      bytes({
        id: 'evt-1',
        entity: { userId: 'u42', shard: 7 },
        values: { amount: 31.5, city: 'Oslo', gone: null },
      }),
      'fallback',
    );
    expect(event.id).toBe('evt-1');
    expect(event.entityKeys).toEqual({ userId: 'u42', shard: '7' });
    expect(event.values).toEqual({
      amount: { kind: { $case: 'number', number: 31.5 } },
      city: { kind: { $case: 'text', text: 'Oslo' } },
    });
  });

  it('takes the fallback id when the body has none, and a numeric id as text', () => {
    expect(parseEvent(bytes({ entity: { userId: 'u1' } }), 'S:9').id).toBe('S:9');
    expect(parseEvent(bytes({ id: 12, entity: { userId: 'u1' } }), 'S:9').id).toBe('12');
  });

  it.each([
    ['{not json', 'not UTF-8 JSON'],
    [new Uint8Array([0x7b, 0xff, 0x7d]), 'not UTF-8 JSON'],
    [[1, 2], 'must be a JSON object'],
    [{ entity: { userId: 'u1' }, id: '' }, '"id" must be a non-empty string'],
    [{ entity: { userId: 'u1' }, id: 'x'.repeat(257) }, 'longer than 256'],
    [{ values: { amount: 1 } }, '"entity" must be an object'],
    [{ entity: {} }, '"entity" must be an object'],
    [{ entity: { userId: '' } }, 'entity key "userId" must be a non-empty string'],
    [{ entity: { userId: Number.NaN } }, 'entity key "userId"'],
    [{ entity: { userId: 'u1' }, values: [1] }, '"values" must be an object'],
    [{ entity: { userId: 'u1' }, values: { amount: { x: 1 } } }, 'value "amount" must be a finite number'],
  ])('refuses %j: %s', (body, reason) => {
    const data = body instanceof Uint8Array ? body : bytes(body);
    expect(() => parseEvent(data, 'f')).toThrow(PoisonEventError);
    expect(() => parseEvent(data, 'f')).toThrow(reason);
  });
});

describe('event ids and entity keys', () => {
  it('falls back to Nats-Msg-Id, then to stream and sequence', () => {
    expect(fallbackEventId('m-1', 'S', 3)).toBe('m-1');
    expect(fallbackEventId(undefined, 'S', 3)).toBe('S:3');
    expect(fallbackEventId('x'.repeat(300), 'S', 3)).toBe('S:3');
  });

  it('names the entity keys an event lacks', () => {
    const event = parseEvent(bytes({ entity: { accountId: 'a' } }), 'f');
    expect(() => checkEntityKeys(event, ['userId'], 'demo')).toThrow(
      'lacks entity key "userId" of feature set "demo" (it has "accountId")',
    );
    expect(() => checkEntityKeys(event, ['accountId'], 'demo')).not.toThrow();
  });

  it('encodes a prediction as JSON', () => {
    const out = encodePrediction({
      eventId: 'e1',
      deployment: 'fraud',
      model: 'fraud',
      version: 2,
      variant: 'stable',
      entity: { userId: 'u1' },
      scores: [0.25],
      time: '2026-01-01T00:00:00.000Z',
      worker: 'w1',
    });
    expect(JSON.parse(new TextDecoder().decode(out))).toMatchObject({
      eventId: 'e1',
      version: 2,
      scores: [0.25],
    });
  });
});
