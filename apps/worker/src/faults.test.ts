import { describe, expect, it } from 'vitest';
import { applyFault, parseFaults } from './faults.js';

describe('test-only fault injection', () => {
  it('parses per-version faults and refuses malformed ones', () => {
    expect(parseFaults(undefined).size).toBe(0);
    expect([...parseFaults('fraud@2:error=0.2,delay=40; credit@1:delay=5')]).toEqual([
      ['fraud@2', { errorRate: 0.2, delayMs: 40 }],
      ['credit@1', { errorRate: 0, delayMs: 5 }],
    ]);
    expect(() => parseFaults('fraud:error=0.2')).toThrow(/model@version/);
    expect(() => parseFaults('fraud@2:error=2')).toThrow(/error=0..1/);
  });

  it('fails about its share of requests', async () => {
    const fault = { errorRate: 0.2, delayMs: 0 };
    let failed = 0;
    for (let i = 0; i < 2000; i++) await applyFault(fault, 'm@1').catch(() => failed++);
    expect(failed / 2000).toBeGreaterThan(0.15);
    expect(failed / 2000).toBeLessThan(0.25);
  });
});
