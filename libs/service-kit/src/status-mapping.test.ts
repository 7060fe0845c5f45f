import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from './errors.js';
import { statusNameOf } from './status-mapping.js';

describe('statusNameOf', () => {
  it('names the status each typed error is answered with, INTERNAL for anything else', () => {
    expect(statusNameOf(new NotFoundError('x'))).toBe('NOT_FOUND');
    expect(statusNameOf(new InvalidArgumentError('x'))).toBe('INVALID_ARGUMENT');
    expect(statusNameOf(new UnavailableError('x'))).toBe('UNAVAILABLE');
    expect(statusNameOf(new ResourceExhaustedError('x'))).toBe('RESOURCE_EXHAUSTED');
    expect(statusNameOf(new CancelledError('x'))).toBe('CANCELLED');
    expect(statusNameOf(new Error('boom'))).toBe('INTERNAL');
    expect(statusNameOf('not even an error')).toBe('INTERNAL');
  });
});
