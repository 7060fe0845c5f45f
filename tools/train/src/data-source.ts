import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FailedPreconditionError, InvalidArgumentError } from '@slipway/errors';
import { canonicalJson, type Row } from '@slipway/features';
import { parseCsv } from './csv.js';
import { generateTransactions, type DemoDataOptions } from './demo-data.js';

/**
 * Labelled raw rows ready for a feature set: what every {@link TrainingDataSource} yields. Rows
 * hold raw field values exactly as the feature service would receive them; the spec decides
 * which fields become model inputs.
 */
export interface TrainingData {
  /** Raw rows in source order (field → value). */
  readonly rows: readonly Row[];
  /** 1 for the positive class, 0 otherwise; one per row. */
  readonly labels: Uint8Array;
  /** Every raw field name, in source order (automatic specs choose from these). */
  readonly fields: readonly string[];
  /** The label's field and the value that counts as positive. */
  readonly target: { readonly field: string; readonly positive: string };
  /** The time column, when the data has one, and each row's time in epoch milliseconds. */
  readonly time?: { readonly field: string; readonly epochMs: Float64Array };
  /** Where the data came from: a file path, `generated:…`, `features:…`. */
  readonly location: string;
}

/**
 * Where training rows come from. The generator and CSV files implement it today; the feature
 * service's point-in-time retrieval plugs in through {@link createHistoricalDataSource}.
 */
export interface TrainingDataSource {
  /** One line for logs, e.g. `csv german_credit.csv (target credit_risk = 2)`. */
  readonly description: string;
  load(): Promise<TrainingData>;
}

/** The data-snapshot facts recorded in lineage. */
export interface DataSnapshot {
  /** Lowercase hex sha256 over the canonical rows (see {@link dataSnapshot}). */
  readonly sha256: string;
  readonly rowCount: number;
  /** Earliest and latest row time, when the data has a time column. */
  readonly startTime?: Date;
  readonly endTime?: Date;
  readonly location: string;
}

/**
 * The snapshot of a data set: sha256 over every row written as canonical JSON (RFC 8785, as the
 * feature hashes use) followed by `\n`, in source order. Formatting of the source (quoting, CRLF,
 * key order) does not change it; any value or row order does.
 */
export function dataSnapshot(data: TrainingData): DataSnapshot {
  const hash = createHash('sha256');
  for (const row of data.rows) hash.update(`${canonicalJson(row)}\n`, 'utf8');
  let startTime: Date | undefined;
  let endTime: Date | undefined;
  if (data.time !== undefined && data.time.epochMs.length > 0) {
    let min = Infinity;
    let max = -Infinity;
    for (const t of data.time.epochMs) {
      min = Math.min(min, t);
      max = Math.max(max, t);
    }
    startTime = new Date(min);
    endTime = new Date(max);
  }
  return {
    sha256: hash.digest('hex'),
    rowCount: data.rows.length,
    ...(startTime === undefined ? {} : { startTime, endTime }),
    location: data.location,
  };
}

/** Options of {@link createCsvDataSource}. */
export interface CsvDataSourceOptions {
  readonly file: string;
  /** The label column. */
  readonly target: string;
  /** The target value that counts as positive (compared after trimming). */
  readonly positive: string;
  /** An optional time column (ISO-8601 with a zone, or epoch milliseconds). */
  readonly timeColumn?: string;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;

/**
 * Rows from a CSV file with a header. Every field stays a string (the feature set's numeric
 * transforms parse numbers, and blank or `NA` fields count as missing), so the rows are exactly
 * what a caller would send the feature service.
 */
export function createCsvDataSource(options: CsvDataSourceOptions): TrainingDataSource {
  const name = path.basename(options.file);
  return {
    description: `csv ${name} (target ${options.target} = ${options.positive})`,
    async load() {
      let text: string;
      try {
        text = await readFile(options.file, 'utf8');
      } catch (cause) {
        throw new InvalidArgumentError(`cannot read CSV file ${options.file}; check --file`, { cause });
      }
      const table = parseCsv(text, name);
      const column = (field: string, flag: string) => {
        const index = table.header.indexOf(field);
        if (index < 0) {
          throw new InvalidArgumentError(
            `${name} has no column "${field}" (${flag}); columns are ${table.header.join(', ')}`,
          );
        }
        return index;
      };
      const targetIndex = column(options.target, '--target');
      const positive = options.positive.trim();
      const labels = new Uint8Array(table.records.length);
      const seen = new Set<string>();
      table.records.forEach((record, k) => {
        const value = record[targetIndex]!.trim();
        if (value === '') {
          throw new InvalidArgumentError(
            `${name} record ${k + 1} has no value in target column "${options.target}"; remove or label it`,
          );
        }
        seen.add(value);
        labels[k] = value === positive ? 1 : 0;
      });
      if (!seen.has(positive) || seen.size < 2) {
        throw new InvalidArgumentError(
          `target column "${options.target}" of ${name} holds ${[...seen].sort().join(', ')}; ` +
            `--positive must be one of them and at least one other value must occur`,
        );
      }
      const rows = table.records.map((record) =>
        Object.fromEntries(table.header.map((field, j) => [field, record[j]!])),
      );
      let time: TrainingData['time'];
      if (options.timeColumn !== undefined) {
        const timeIndex = column(options.timeColumn, '--time-column');
        const epochMs = Float64Array.from(table.records, (record, k) =>
          parseTime(record[timeIndex]!, `${name} record ${k + 1} column "${options.timeColumn}"`),
        );
        time = { field: options.timeColumn, epochMs };
      }
      return {
        rows,
        labels,
        fields: table.header,
        target: { field: options.target, positive },
        ...(time === undefined ? {} : { time }),
        location: path.resolve(options.file),
      };
    },
  };
}

function parseTime(raw: string, where: string): number {
  const text = raw.trim();
  if (/^-?\d+(?:\.\d+)?$/.test(text)) return Number(text);
  if (ISO_WITH_ZONE.test(text)) return Date.parse(text);
  throw new InvalidArgumentError(
    `${where} holds "${raw}"; a time column needs epoch milliseconds or ISO-8601 with "Z" or an offset`,
  );
}

/**
 * The demo transactions (see `generateTransactions`) as raw rows: the generator's fields with
 * `eventTime` as ISO-8601 and `label` as 0/1. Time column `eventTime`.
 */
export function createDemoDataSource(options: DemoDataOptions): TrainingDataSource {
  const location =
    `generated:demo-transactions?seed=${options.seed}&rows=${options.rows}` +
    (options.amountShift ? `&amountShift=${options.amountShift}` : '');
  return {
    description: `generated demo transactions (${options.rows} rows, seed ${options.seed})`,
    async load() {
      const transactions = generateTransactions(options);
      const rows = transactions.map((t) => ({ ...t, eventTime: t.eventTime.toISOString() }));
      return {
        rows,
        labels: Uint8Array.from(transactions, (t) => t.label),
        fields: Object.keys(rows[0] ?? {}),
        target: { field: 'label', positive: '1' },
        time: { field: 'eventTime', epochMs: Float64Array.from(transactions, (t) => t.eventTime.getTime()) },
        location,
      };
    },
  };
}

/** One point-in-time lookup, shaped like `slipway.features.v1.HistoricalQuery`. */
export interface HistoricalQuery {
  /** Entity key values, e.g. `{ userId: 'u17' }`. */
  readonly entityKeys: Readonly<Record<string, string>>;
  /** Only values written at or before this time may appear in the row. */
  readonly asOfTime: Date;
  /** Request-time values of the example, as logged with the original request. */
  readonly requestValues?: Row;
}

/** A training example: a lookup and its label (e.g. from outcome replay). */
export interface HistoricalExample extends HistoricalQuery {
  /** 1 positive, 0 negative. */
  readonly label: number;
}

/**
 * The seam for point-in-time training data: the feature service's GetHistoricalFeatures. For
 * each query, in order, an implementation returns the raw field values the entity had in the
 * given feature views as of the query's time (no later write may leak in; EXPIRED and MISSING
 * views contribute no fields, so the feature set's impute or MISSING rules apply), or throws.
 * The feature service's implementation is `createGrpcHistoricalReader` (`feature-client.ts`).
 */
export interface HistoricalFeatureReader {
  getHistoricalRows(request: {
    readonly views: readonly string[];
    readonly queries: readonly HistoricalQuery[];
  }): Promise<readonly Row[]>;
}

/** Options of {@link createHistoricalDataSource}. */
export interface HistoricalDataSourceOptions {
  readonly reader: HistoricalFeatureReader;
  /** Feature views whose fields to fetch. */
  readonly views: readonly string[];
  readonly examples: readonly HistoricalExample[];
  /** Recorded as the snapshot location; default `features:views=<view>,…`. */
  readonly location?: string;
  /** The field each row's as-of time is written to (and the time column). Default `asOfTime`. */
  readonly timeField?: string;
}

/**
 * Training data from point-in-time retrieval: each row is the reader's row for an example merged
 * with the example's request-time values, entity keys and as-of time (ISO-8601), labelled by the
 * example. The as-of time is the time column, so a time split never trains on the future.
 */
export function createHistoricalDataSource(options: HistoricalDataSourceOptions): TrainingDataSource {
  const timeField = options.timeField ?? 'asOfTime';
  const location = options.location ?? `features:views=${options.views.join(',')}`;
  return {
    description: `historical features from ${options.views.join(', ')} (${options.examples.length} examples)`,
    async load() {
      const queries = options.examples.map(({ entityKeys, asOfTime, requestValues }) => ({
        entityKeys,
        asOfTime,
        ...(requestValues === undefined ? {} : { requestValues }),
      }));
      const fetched = await options.reader.getHistoricalRows({ views: options.views, queries });
      if (fetched.length !== queries.length) {
        throw new FailedPreconditionError(
          `historical retrieval from ${location} returned ${fetched.length} rows for ${queries.length} queries; it must return one per query, in order`,
        );
      }
      const rows = options.examples.map((e, k) => ({
        ...fetched[k],
        ...e.requestValues,
        ...e.entityKeys,
        [timeField]: e.asOfTime.toISOString(),
        label: e.label === 1 ? 1 : 0,
      }));
      const fields = new Set<string>();
      for (const row of rows) for (const f of Object.keys(row)) fields.add(f);
      return {
        rows,
        labels: Uint8Array.from(options.examples, (e) => (e.label === 1 ? 1 : 0)),
        fields: [...fields],
        target: { field: 'label', positive: '1' },
        time: { field: timeField, epochMs: Float64Array.from(options.examples, (e) => e.asOfTime.getTime()) },
        location,
      };
    },
  };
}
