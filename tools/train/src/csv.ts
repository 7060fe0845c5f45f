import { InvalidArgumentError } from '@slipway/errors';

/** A parsed CSV file: the header row and the data records, every field a string. */
export interface CsvTable {
  readonly header: readonly string[];
  readonly records: readonly (readonly string[])[];
}

/**
 * Parses RFC 4180 CSV: comma-separated fields, optional double quotes around a field (`""` inside
 * quotes is one quote; quoted fields may hold commas and line breaks), LF or CRLF line ends, an
 * optional UTF-8 BOM and an optional final line end. The first record is the header. Blank lines
 * are skipped. csv-parse is not installed in this workspace, so this small parser stands in.
 *
 * @param source names the file in error messages.
 * @throws InvalidArgumentError when a quote is unterminated, text follows a closing quote, a
 *   header name repeats, or a record's field count differs from the header's.
 */
export function parseCsv(text: string, source = 'CSV'): CsvTable {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = () => {
    record.push(field);
    field = '';
    // A blank line parses as one empty field: skip it rather than report a short record.
    if (!(record.length === 1 && record[0] === '')) records.push(record);
    record = [];
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new InvalidArgumentError(
            `${source} line ${line}: unexpected "${next}" after a closing quote; quote the whole field and write "" for a quote inside it`,
          );
        }
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new InvalidArgumentError(`${source} line ${recordLine}: a quoted field is never closed`);
  if (field !== '' || record.length > 0) endRecord();
  const [header, ...rows] = records;
  if (header === undefined) throw new InvalidArgumentError(`${source} is empty; it needs a header row`);
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name))
      throw new InvalidArgumentError(`${source}: column "${name}" appears twice in the header`);
    seen.add(name);
  }
  rows.forEach((r, k) => {
    if (r.length !== header.length) {
      throw new InvalidArgumentError(
        `${source} record ${k + 1}: ${r.length} fields, but the header has ${header.length}`,
      );
    }
  });
  return { header, records: rows };
}
