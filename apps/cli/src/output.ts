import Table from 'cli-table3';

/** Prints `value` as indented JSON; bigints become numbers when safe, strings otherwise. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

/** JSON.stringify replacer for contract messages (bigint, Uint8Array). */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

/** Prints rows as a table with the given headings. */
export function printTable(head: string[], rows: Array<Array<string | number>>): void {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map((cell) => String(cell)));
  process.stdout.write(`${table.toString()}\n`);
}

/** Prints `key: value` lines, aligned. */
export function printFields(fields: Array<[string, string | number | undefined]>): void {
  const width = Math.max(...fields.map(([key]) => key.length));
  for (const [key, value] of fields) {
    if (value === undefined || value === '') continue;
    process.stdout.write(`${key.padEnd(width)}  ${value}\n`);
  }
}

/** ISO time without milliseconds, or '' */
export function formatTime(date: Date | undefined): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
}

/** Human-readable byte size. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
