import { describe, expect, it } from 'vitest';
import { testing } from '@slipway/contracts';

describe('contracts resolve from source', () => {
  it('round-trips an echo request', () => {
    const bytes = testing.EchoRequest.encode({ payload: new Uint8Array([1, 2, 3]), text: 'hi' }).finish();
    expect(testing.EchoRequest.decode(bytes).text).toBe('hi');
  });
});
