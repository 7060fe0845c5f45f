import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField, formatFloat32, isSampled, outputHeader, requestIdOf, runIdOf } from './output-format.js';

describe('output format', () => {
  it('writes float32 scores in their shortest form that reads back as the same float32', () => {
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(Math.fround(0.123456789))).toBe('0.12345679');
    expect(formatFloat32(0.5)).toBe('0.5');
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = formatFloat32(value);
        expect(Math.fround(Number(text))).toBe(value === 0 ? 0 : value);
        // At most 9 significant digits: rounding to 9 changes nothing.
        expect(Number(Number(text).toPrecision(9))).toBe(Number(text));
      }),
    );
  });

  it('quotes CSV fields only when they need it', () => {
    expect(csvField('tx-1')).toBe('tx-1');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });

  it('names one score column, or one per value', () => {
    expect(outputHeader(1)).toBe('id,request_id,model,version,score,predicted_at\n');
    expect(outputHeader(2)).toBe('id,request_id,model,version,score_0,score_1,predicted_at\n');
  });

  it('derives request ids from the run id and the row: the same on every attempt', () => {
    const run = runIdOf({ model: 'fraud', version: 1, inputSha256: 'ab' });
    expect(run).toMatch(/^[0-9a-f]{32}$/);
    expect(runIdOf({ inputSha256: 'ab', version: 1, model: 'fraud' })).toBe(run);
    expect(runIdOf({ model: 'fraud', version: 2, inputSha256: 'ab' })).not.toBe(run);
    expect(requestIdOf(run, 7)).toBe(requestIdOf(run, 7));
    expect(requestIdOf(run, 7)).not.toBe(requestIdOf(run, 8));
  });

  it('samples rows by request id, about the share asked for', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => requestIdOf('run', i));
    const share = ids.filter((id) => isSampled(id, 0.25)).length / ids.length;
    expect(share).toBeGreaterThan(0.23);
    expect(share).toBeLessThan(0.27);
    expect(ids.every((id) => isSampled(id, 1) && !isSampled(id, 0))).toBe(true);
  });
});
