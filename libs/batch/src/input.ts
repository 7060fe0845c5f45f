import { createReadStream, type ReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { InvalidArgumentError } from '@slipway/errors';
import { parse, type CsvError } from 'csv-parse';

/** The input file formats: CSV with a header line, or JSON Lines (one object per line). */
export type InputFormat = 'csv' | 'jsonl';

/** The format named by a file's extension: `.csv`, or `.jsonl` / `.ndjson`. */
export function inputFormatOf(file: string): InputFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new InvalidArgumentError(
    `input "${file}" has neither a .csv nor a .jsonl extension; rename it so its format is clear`,
  );
}

/**
 * One data record of the input. `row` numbers every data record from 1 (the CSV header is not a
 * row; blank lines are not rows), whether it could be read or not.
 */
export type InputItem =
  | {
      readonly ok: true;
      readonly row: number;
      /** A field's value: a string (CSV) or any JSON value (JSONL); undefined when absent. */
      value(field: string): unknown;
    }
  | {
      readonly ok: false;
      readonly row: number;
      /** Why the record could not be read, with its line when known. */
      readonly reason: string;
      /** What was read of it (CSV fields, or the JSONL line), for the reject file. */
      readonly raw?: unknown;
    };

/** A streaming reader of an input file. */
export interface InputReader extends AsyncIterable<InputItem> {
  /** Field names of a CSV header (known after the first item); undefined for JSONL. */
  columns(): readonly string[] | undefined;
  /** Bytes of the file read so far (read-ahead included), for progress. */
  bytesRead(): number;
  /** Stops reading and releases the file. Idempotent. */
  close(): void;
}

// Read-ahead is bounded by these: memory stays flat whatever the file's size.
const FILE_CHUNK_BYTES = 64 * 1024;

/** Opens `file` for streaming; nothing but a window of the file is ever in memory. */
export function openInput(file: string, format: InputFormat): InputReader {
  const stream = createReadStream(file, { highWaterMark: FILE_CHUNK_BYTES });
  return format === 'csv' ? csvReader(file, stream) : jsonlReader(stream);
}

function csvReader(file: string, stream: ReadStream): InputReader {
  let header: string[] | undefined;
  let index: Map<string, number> | undefined;
  // Records with errors (e.g. a stray quote) are skipped by the parser and reported through
  // 'skip' events while the records after them may still wait in the stream's buffer: each skip
  // remembers how many records had been pushed before it, so it is numbered in file order.
  const skips: { after: number; reason: string; raw: unknown }[] = [];
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
  });
  parser.on('skip', (err: CsvError | undefined) => {
    const error = err as (CsvError & { record?: unknown }) | undefined;
    skips.push({
      after: parser.info.records,
      reason: error ? `unparseable CSV: ${error.message}` : 'unparseable CSV record',
      raw: error?.record,
    });
  });
  stream.on('error', (error) => parser.destroy(error));
  stream.pipe(parser);

  async function* items(): AsyncGenerator<InputItem> {
    let row = 0;
    let pushed = 0;
    let skipped = 0;
    const drain = function* (before: number): Generator<InputItem> {
      while (skipped < skips.length && skips[skipped]!.after < before) {
        const skip = skips[skipped++]!;
        if (header === undefined) {
          throw new InvalidArgumentError(`input "${file}": the header line is not valid CSV: ${skip.reason}`);
        }
        yield { ok: false, row: ++row, reason: skip.reason, raw: skip.raw };
      }
      // Reported skips are never needed again.
      if (skipped === skips.length) {
        skips.length = 0;
        skipped = 0;
      }
    };
    for await (const record of parser as AsyncIterable<string[]>) {
      pushed++;
      yield* drain(pushed);
      if (header === undefined) {
        header = record;
        index = new Map();
        for (const [i, name] of record.entries()) {
          if (index.has(name)) {
            throw new InvalidArgumentError(`input "${file}": the header names column "${name}" twice`);
          }
          index.set(name, i);
        }
        continue;
      }
      row++;
      if (record.length !== header.length) {
        yield {
          ok: false,
          row,
          reason: `has ${record.length} fields but the header has ${header.length}`,
          raw: record,
        };
        continue;
      }
      const columns = index!;
      yield { ok: true, row, value: (field) => lookup(record, columns, field) };
    }
    yield* drain(Infinity);
  }

  return {
    [Symbol.asyncIterator]: () => items(),
    columns: () => header,
    bytesRead: () => stream.bytesRead,
    close: () => {
      parser.destroy();
      stream.destroy();
    },
  };
}

function lookup(record: readonly string[], columns: ReadonlyMap<string, number>, field: string): unknown {
  const i = columns.get(field);
  return i === undefined ? undefined : record[i];
}

function jsonlReader(stream: ReadStream): InputReader {
  async function* items(): AsyncGenerator<InputItem> {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    let row = 0;
    let lineNumber = 0;
    try {
      for await (const line of lines) {
        lineNumber++;
        if (line.trim() === '') continue;
        row++;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (error) {
          yield {
            ok: false,
            row,
            reason: `line ${lineNumber} is not JSON: ${(error as Error).message}`,
            raw: line,
          };
          continue;
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          yield { ok: false, row, reason: `line ${lineNumber} is not a JSON object`, raw: line };
          continue;
        }
        const object = value as Record<string, unknown>;
        yield {
          ok: true,
          row,
          value: (field) => (Object.hasOwn(object, field) ? object[field] : undefined),
        };
      }
    } finally {
      lines.close();
    }
  }

  return {
    [Symbol.asyncIterator]: () => items(),
    columns: () => undefined,
    bytesRead: () => stream.bytesRead,
    close: () => stream.destroy(),
  };
}
