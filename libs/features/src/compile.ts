import { InvalidArgumentError } from '@slipway/errors';
import type { FittedFeatureSet } from './fitted.js';
import { fnv1a32 } from './fnv.js';
import { applyPlan, numericPlan } from './numeric-ops.js';
import { categoryReader, numericReader, resolveNow, type Row, type TimeInput } from './values.js';

/**
 * Per-feature status of a transformed row. The numbers match `slipway.features.v1.FeatureStatus`
 * so the feature service can pass them through. `EXPIRED` is set by the online store (a value
 * past its TTL), never by a transform.
 */
export const FeatureStatus = { PRESENT: 1, MISSING: 2, EXPIRED: 3, DEFAULTED: 4 } as const;
/** See {@link FeatureStatus}. */
export type FeatureStatus = (typeof FeatureStatus)[keyof typeof FeatureStatus];

/**
 * What a MISSING feature writes to every one of its columns: 0 (a one-hot feature writes all
 * zeros, not the unknown column). A feature is MISSING when its value is missing and its chain
 * has no impute; with an impute it is DEFAULTED and the fill value goes through the chain.
 */
export const MISSING_VALUE = 0;

/** Options of a transform call. */
export interface TransformOptions {
  /**
   * Request-time values: one record for every row, or one per row (batch). A request-time source
   * (and a `since` field) reads here first and falls back to the row's field of the same name.
   */
  readonly requestValues?: Row | readonly (Row | undefined)[];
  /** Reference time for `age_seconds` features without `since`. */
  readonly now?: TimeInput;
}

/** Options of a single-row transform. */
export interface TransformRowOptions {
  readonly requestValues?: Row;
  readonly now?: TimeInput;
  /** Receives the row's statuses at `statusOffset` (one byte per feature), if given. */
  readonly statuses?: Uint8Array;
  readonly statusOffset?: number;
}

/** A transformed batch. */
export interface TransformResult {
  /** rows × columns, row-major. */
  readonly matrix: Float32Array;
  readonly rows: number;
  readonly columns: readonly string[];
  /** Feature names, the second axis of `statuses`. */
  readonly features: readonly string[];
  /** rows × features {@link FeatureStatus} codes, row-major. */
  readonly statuses: Uint8Array;
}

/** Writes one feature of one row at `offset` and returns its status. */
type FeatureWriter = (
  row: Row,
  request: Row | undefined,
  now: number,
  out: Float32Array,
  offset: number,
) => number;

/**
 * A fitted feature set compiled into per-feature writers. Every value is computed in float64
 * and rounded to float32 exactly once, when stored into the output array, so the batch path,
 * the single-row path and any other caller give bit-identical vectors.
 */
export interface CompiledFeatureSet {
  readonly fitted: FittedFeatureSet;
  readonly columns: readonly string[];
  readonly features: readonly string[];
  /** Number of columns. */
  readonly width: number;
  /** Transforms one row into a new Float32Array of `width` values. */
  transformRow(row: Row, options?: TransformRowOptions): Float32Array;
  /** Transforms one row into `out[offset … offset + width)`; allocates nothing. */
  transformRowInto(row: Row, out: Float32Array, offset?: number, options?: TransformRowOptions): void;
  /** Transforms a batch of rows. */
  transform(rows: Iterable<Row>, options?: TransformOptions): TransformResult;
}

function featureWriters(fitted: FittedFeatureSet): { writers: FeatureWriter[]; offsets: Int32Array } {
  const writers: FeatureWriter[] = [];
  const offsets = new Int32Array(fitted.features.length);
  let offset = 0;
  fitted.features.forEach((f, i) => {
    offsets[i] = offset;
    offset += f.columns.length;
    const spec = fitted.spec.features[i]!;
    const first = f.transforms[0];
    const last = f.transforms.at(-1);
    if (f.kind === 'numeric') {
      const read = numericReader(spec);
      const plan = numericPlan(f.transforms);
      const hasFill = first?.type === 'impute';
      const fill = hasFill ? (first.value as number) : 0;
      writers.push((row, request, now, out, at) => {
        let x = read(row, request, now);
        let status: number = FeatureStatus.PRESENT;
        if (x !== x) {
          if (!hasFill) {
            out[at] = MISSING_VALUE;
            return FeatureStatus.MISSING;
          }
          x = fill;
          status = FeatureStatus.DEFAULTED;
        }
        // + 0 maps −0 to 0 so a zero always has one bit pattern, whatever produced it.
        out[at] = applyPlan(plan, x) + 0;
        return status;
      });
      return;
    }
    const read = categoryReader(spec);
    const fill = first?.type === 'impute' ? (first.value as string) : undefined;
    const width = f.columns.length;
    let encode: (value: string, out: Float32Array, at: number) => void;
    if (last?.type === 'one-hot') {
      const index = new Map(last.categories.map((c, k) => [c, k]));
      const unknown = last.categories.length;
      encode = (value, out, at) => {
        out.fill(0, at, at + width);
        out[at + (index.get(value) ?? unknown)] = 1;
      };
    } else if (last?.type === 'hash-bucket') {
      const buckets = last.buckets;
      encode =
        last.output === 'index'
          ? (value, out, at) => {
              out[at] = fnv1a32(value) % buckets;
            }
          : (value, out, at) => {
              out.fill(0, at, at + width);
              out[at + (fnv1a32(value) % buckets)] = 1;
            };
    } else {
      throw new InvalidArgumentError(
        `feature "${f.name}": a categorical feature must end with one-hot or hash-bucket`,
      );
    }
    writers.push((row, request, now, out, at) => {
      let value = read(row, request, now);
      let status: number = FeatureStatus.PRESENT;
      if (value === undefined) {
        if (fill === undefined) {
          out.fill(MISSING_VALUE, at, at + width);
          return FeatureStatus.MISSING;
        }
        value = fill;
        status = FeatureStatus.DEFAULTED;
      }
      encode(value, out, at);
      return status;
    });
  });
  return { writers, offsets };
}

const NO_OPTIONS: TransformRowOptions = Object.freeze({});

/**
 * Compiles a fitted set for repeated use: readers, numeric plans and category indexes are built
 * once, so the per-row work is reading fields and arithmetic. `transform` and `transformRow`
 * cache the compiled form per fitted object; call this directly to hold it yourself.
 */
export function compile(fitted: FittedFeatureSet): CompiledFeatureSet {
  const { writers, offsets } = featureWriters(fitted);
  const width = fitted.columns.length;
  const nFeatures = writers.length;
  const features = fitted.features.map((f) => f.name);

  const write = (
    row: Row,
    request: Row | undefined,
    now: number,
    out: Float32Array,
    offset: number,
    statuses: Uint8Array | undefined,
    statusOffset: number,
  ): void => {
    if (typeof row !== 'object' || row === null) {
      throw new InvalidArgumentError(
        `feature set "${fitted.spec.name}": a row must be an object of field values`,
      );
    }
    for (let i = 0; i < nFeatures; i++) {
      const status = writers[i]!(row, request, now, out, offset + offsets[i]!);
      if (statuses !== undefined) statuses[statusOffset + i] = status;
    }
  };

  const checkRoom = (out: Float32Array, offset: number) => {
    if (!Number.isInteger(offset) || offset < 0 || offset + width > out.length) {
      throw new InvalidArgumentError(
        `feature set "${fitted.spec.name}": output needs ${width} floats at offset ${offset} but has ${out.length}`,
      );
    }
  };

  return {
    fitted,
    columns: fitted.columns,
    features,
    width,
    transformRow(row, options = NO_OPTIONS) {
      const out = new Float32Array(width);
      write(
        row,
        options.requestValues,
        resolveNow(options.now),
        out,
        0,
        options.statuses,
        options.statusOffset ?? 0,
      );
      return out;
    },
    transformRowInto(row, out, offset = 0, options = NO_OPTIONS) {
      checkRoom(out, offset);
      write(
        row,
        options.requestValues,
        resolveNow(options.now),
        out,
        offset,
        options.statuses,
        options.statusOffset ?? 0,
      );
    },
    transform(rows, options = {}) {
      const list = Array.isArray(rows) ? (rows as readonly Row[]) : Array.from(rows);
      const n = list.length;
      const matrix = new Float32Array(n * width);
      const statuses = new Uint8Array(n * nFeatures);
      const now = resolveNow(options.now);
      const request = options.requestValues;
      const perRow = Array.isArray(request) ? (request as readonly (Row | undefined)[]) : undefined;
      if (perRow !== undefined && perRow.length !== n) {
        throw new InvalidArgumentError(
          `feature set "${fitted.spec.name}": ${perRow.length} request-value records for ${n} rows; pass one per row or a single record`,
        );
      }
      const shared = perRow === undefined ? (request as Row | undefined) : undefined;
      for (let r = 0; r < n; r++) {
        write(
          list[r]!,
          perRow === undefined ? shared : perRow[r],
          now,
          matrix,
          r * width,
          statuses,
          r * nFeatures,
        );
      }
      return { matrix, rows: n, columns: fitted.columns, features, statuses };
    },
  };
}

const cache = new WeakMap<FittedFeatureSet, CompiledFeatureSet>();

function compiled(fitted: FittedFeatureSet): CompiledFeatureSet {
  let c = cache.get(fitted);
  if (c === undefined) {
    c = compile(fitted);
    cache.set(fitted, c);
  }
  return c;
}

/**
 * Transforms rows into a model-ready matrix. Training and the feature service both call this
 * (or {@link transformRow}); one raw row gives the same float32 bits either way.
 *
 * @throws InvalidArgumentError when a raw value has the wrong type or a needed option is absent.
 */
export function transform(
  fitted: FittedFeatureSet,
  rows: Iterable<Row>,
  options?: TransformOptions,
): TransformResult {
  return compiled(fitted).transform(rows, options);
}

/** Transforms one row (the online path); same writers as {@link transform}. */
export function transformRow(
  fitted: FittedFeatureSet,
  row: Row,
  options?: TransformRowOptions,
): Float32Array {
  return compiled(fitted).transformRow(row, options);
}
