import { InvalidArgumentError } from '@slipway/errors';
import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.js';

describe('parseCsv', () => {
  it('reads quoted fields with commas, escaped quotes and line breaks, CRLF and a BOM', () => {
    const text = '\uFEFFid,"name","note"\r\n1,"Smith, J.","said ""hi""\r\nthen left"\r\n2,plain,\r\n';
    expect(parseCsv(text)).toEqual({
      header: ['id', 'name', 'note'],
      records: [
        ['1', 'Smith, J.', 'said "hi"\r\nthen left'],
        ['2', 'plain', ''],
      ],
    });
  });

  it('accepts LF, no final line end, blank lines and empty quoted fields', () => {
    expect(parseCsv('a,b\n\n"",x\n3,4')).toEqual({
      header: ['a', 'b'],
      records: [
        ['', 'x'],
        ['3', '4'],
      ],
    });
  });

  it('refuses ragged records, unterminated quotes, text after a closing quote and repeated columns', () => {
    expect(() => parseCsv('a,b\n1,2,3\n', 'f.csv')).toThrow(
      /f\.csv record 1: 3 fields, but the header has 2/,
    );
    expect(() => parseCsv('a\n"open\n')).toThrow(/never closed/);
    expect(() => parseCsv('a\n"x"y\n')).toThrow(/after a closing quote/);
    expect(() => parseCsv('a,a\n1,2\n')).toThrow(/appears twice/);
    expect(() => parseCsv('')).toThrow(InvalidArgumentError);
  });
});
