import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from '@slipway/errors';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { inputFormatOf, openInput, type InputFormat, type InputItem } from './input.js';

async function readAll(text: string, format: InputFormat): Promise<InputItem[]> {
  const dir = await createTempDir('batch-input-');
  const file = path.join(dir.path, `in.${format}`);
  await writeFile(file, text);
  const reader = openInput(file, format);
  const items: InputItem[] = [];
  try {
    for await (const item of reader) items.push(item);
  } finally {
    reader.close();
  }
  return items;
}

const view = (item: InputItem, fields: string[]) =>
  item.ok ? [item.row, ...fields.map((f) => item.value(f))] : [item.row, item.reason];

describe('input', () => {
  it('tells the format by extension', () => {
    expect(inputFormatOf('a/tx.CSV')).toBe('csv');
    expect(inputFormatOf('tx.jsonl')).toBe('jsonl');
    expect(inputFormatOf('tx.ndjson')).toBe('jsonl');
    expect(() => inputFormatOf('tx.txt')).toThrow(InvalidArgumentError);
  });

  it('numbers CSV rows in file order, unparseable ones included, blank lines and the header not', async () => {
    const text = '\uFEFFid,user\r\n1,a\r\n\r\n2,"b,c"\r\n3,x"y\r\n4\r\n5,"multi\nline"\r\n6,f\r\n';
    const items = await readAll(text, 'csv');
    expect(items.map((i) => view(i, ['id', 'user']))).toEqual([
      [1, '1', 'a'],
      [2, '2', 'b,c'],
      [3, expect.stringMatching(/^unparseable CSV: .*quote/i)],
      [4, 'has 1 fields but the header has 2'],
      [5, '5', 'multi\nline'],
      [6, '6', 'f'],
    ]);
    expect((items[0] as { value(f: string): unknown }).value('missing')).toBeUndefined();
  });

  it('refuses a CSV header that names a column twice', async () => {
    const items = readAll('id,id\n1,2\n', 'csv');
    await expect(items).rejects.toThrow(/names column "id" twice/);
  });

  it('numbers JSON Lines rows by non-blank line, rejecting what is not a JSON object', async () => {
    const items = await readAll('{"id":1}\n\nnot json\n[1]\n{"id":"4","n":null}\n', 'jsonl');
    expect(items.map((i) => view(i, ['id', 'n']))).toEqual([
      [1, 1, undefined],
      [2, expect.stringMatching(/^line 3 is not JSON: /)],
      [3, 'line 4 is not a JSON object'],
      [4, '4', null],
    ]);
  });
});
