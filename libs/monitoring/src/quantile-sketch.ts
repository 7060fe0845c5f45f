/**
 * A mergeable quantile sketch with relative-error guarantees: DDSketch (Masson, Rim and Lee,
 * "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with Relative-Error Guarantees",
 * VLDB 2019). Values fall into logarithmic buckets ((γ^(i−1), γ^i] with γ = (1 + α)/(1 − α)),
 * so any quantile is returned within relative error α of the true value of that rank, however
 * skewed the data. Merging adds bucket counts, so per-minute sketches merge into a window's
 * sketch exactly as if every value had been added to one.
 */
import { InvalidArgumentError } from '@slipway/errors';

/** Format version written by {@link QuantileSketch.serialize} and {@link QuantileSketch.toJSON}. */
export const QUANTILE_SKETCH_FORMAT = 1;

/** Options of {@link createQuantileSketch}. */
export interface QuantileSketchOptions {
  /**
   * Relative accuracy α in (0, 1): a quantile is within α·|value| of the value of that rank.
   * Default 0.01 (1 %): 461 buckets span 1 ms to 10 s.
   */
  readonly relativeAccuracy?: number;
  /**
   * Most buckets per sign (default 2048). Past it the lowest buckets are collapsed into one, which
   * keeps high quantiles (the ones latency alerts read) exact to α and only coarsens the lowest.
   * 2048 buckets at α = 0.01 span a ratio of e^41 (about 6·10^17) between the smallest and the largest value, so
   * collapsing happens only for values that are not latencies.
   */
  readonly maxBuckets?: number;
}

/** The JSON form of a sketch ({@link QuantileSketch.toJSON}); bucket counts are dense runs. */
export interface QuantileSketchJson {
  readonly format: typeof QUANTILE_SKETCH_FORMAT;
  readonly relativeAccuracy: number;
  readonly maxBuckets: number;
  readonly count: number;
  readonly sum: number;
  /** Null when the sketch is empty. */
  readonly min: number | null;
  readonly max: number | null;
  /** Values whose magnitude is below the smallest indexable value (about 1e-300), i.e. zeros. */
  readonly zeroCount: number;
  /** Buckets of positive values: `counts[k]` is the count of bucket `offset + k`. */
  readonly positive: { readonly offset: number; readonly counts: readonly number[] };
  /** Buckets of negative values, indexed by magnitude like `positive`. */
  readonly negative: { readonly offset: number; readonly counts: readonly number[] };
}

/** A DDSketch; see the module comment. Create one with {@link createQuantileSketch}. */
export interface QuantileSketch {
  readonly relativeAccuracy: number;
  readonly maxBuckets: number;
  /** Number of values added. */
  readonly count: number;
  /** Sum of the values added (a float sum: merging may differ in the last bits from one pass). */
  readonly sum: number;
  /** Exact smallest and largest values; undefined when empty. */
  readonly min: number | undefined;
  readonly max: number | undefined;
  /**
   * Adds a finite value `count` times (a positive integer, default 1).
   *
   * @throws InvalidArgumentError for a non-finite value or a count that is not a positive integer.
   */
  add(value: number, count?: number): void;
  /**
   * Adds every value of another sketch to this one (the other is unchanged).
   *
   * @throws InvalidArgumentError when the relative accuracies differ.
   */
  merge(other: QuantileSketch): void;
  /**
   * The value of rank ⌊q·(count − 1)⌋ in the sorted values, within relative error α (and clamped
   * to [min, max]; q = 0 and q = 1 give the exact min and max). Undefined when empty.
   *
   * @throws InvalidArgumentError unless 0 ≤ q ≤ 1.
   */
  quantile(q: number): number | undefined;
  /** An independent copy. */
  copy(): QuantileSketch;
  /** Compact binary form (varint bucket counts), read back by {@link deserializeQuantileSketch}. */
  serialize(): Uint8Array;
  /** JSON form, read back by {@link deserializeQuantileSketch}. */
  toJSON(): QuantileSketchJson;
}

const DEFAULT_RELATIVE_ACCURACY = 0.01;
const DEFAULT_MAX_BUCKETS = 2048;
const MAX_BUCKETS_LIMIT = 1 << 20;

/** Dense bucket counts over a contiguous index range that collapses its lowest buckets. */
class BucketStore {
  counts: number[] = [];
  offset = 0;
  total = 0;
  readonly #maxBuckets: number;

  constructor(maxBuckets: number) {
    this.#maxBuckets = maxBuckets;
  }

  get maxIndex(): number {
    return this.offset + this.counts.length - 1;
  }

  add(index: number, count: number): void {
    if (this.counts.length === 0) {
      this.counts = [count];
      this.offset = index;
    } else if (index < this.offset) {
      const lowest = this.maxIndex - this.#maxBuckets + 1;
      if (index < lowest) index = lowest;
      if (index < this.offset) {
        const grown = new Array<number>(this.maxIndex - index + 1).fill(0);
        for (let k = 0; k < this.counts.length; k++) grown[this.offset - index + k] = this.counts[k]!;
        this.counts = grown;
        this.offset = index;
      }
      this.counts[index - this.offset]! += count;
    } else if (index > this.maxIndex) {
      const lowest = index - this.#maxBuckets + 1;
      const grown = new Array<number>(index - Math.max(lowest, this.offset) + 1).fill(0);
      const newOffset = Math.max(lowest, this.offset);
      for (let k = 0; k < this.counts.length; k++) {
        // Buckets below the new lowest index collapse into it.
        grown[Math.max(0, this.offset + k - newOffset)]! += this.counts[k]!;
      }
      this.counts = grown;
      this.offset = newOffset;
      this.counts[index - this.offset]! += count;
    } else {
      this.counts[index - this.offset]! += count;
    }
    this.total += count;
  }

  copyFrom(other: BucketStore): void {
    this.counts = other.counts.slice();
    this.offset = other.offset;
    this.total = other.total;
  }
}

class DDSketch implements QuantileSketch {
  readonly relativeAccuracy: number;
  readonly maxBuckets: number;
  readonly #gamma: number;
  readonly #multiplier: number;
  readonly #minIndexable: number;
  #positive: BucketStore;
  #negative: BucketStore;
  #zeroCount = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  constructor(relativeAccuracy: number, maxBuckets: number) {
    this.relativeAccuracy = relativeAccuracy;
    this.maxBuckets = maxBuckets;
    this.#gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.#multiplier = 1 / Math.log(this.#gamma);
    // Below this magnitude log-indexing would underflow; such values count as zero.
    this.#minIndexable = Math.max(Number.MIN_VALUE * this.#gamma, 1e-300);
    this.#positive = new BucketStore(maxBuckets);
    this.#negative = new BucketStore(maxBuckets);
  }

  get count(): number {
    return this.#zeroCount + this.#positive.total + this.#negative.total;
  }

  get sum(): number {
    return this.#sum;
  }

  get min(): number | undefined {
    return this.count === 0 ? undefined : this.#min;
  }

  get max(): number | undefined {
    return this.count === 0 ? undefined : this.#max;
  }

  #index(magnitude: number): number {
    return Math.ceil(Math.log(magnitude) * this.#multiplier);
  }

  // The point of bucket i that is within α of every value in (γ^(i−1), γ^i].
  #value(index: number): number {
    return (2 * Math.pow(this.#gamma, index)) / (this.#gamma + 1);
  }

  add(value: number, count = 1): void {
    if (!Number.isFinite(value)) {
      throw new InvalidArgumentError(`quantile sketch takes finite values, got ${value}`);
    }
    if (!Number.isSafeInteger(count) || count <= 0) {
      throw new InvalidArgumentError(`quantile sketch count must be a positive integer, got ${count}`);
    }
    if (value > this.#minIndexable) this.#positive.add(this.#index(value), count);
    else if (value < -this.#minIndexable) this.#negative.add(this.#index(-value), count);
    else this.#zeroCount += count;
    this.#sum += value * count;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  merge(other: QuantileSketch): void {
    if (!(other instanceof DDSketch)) {
      throw new InvalidArgumentError('can only merge sketches made by createQuantileSketch');
    }
    if (other.relativeAccuracy !== this.relativeAccuracy) {
      throw new InvalidArgumentError(
        `cannot merge a sketch of relative accuracy ${other.relativeAccuracy} into one of ${this.relativeAccuracy}; create both with the same relativeAccuracy`,
      );
    }
    if (other.count === 0) return;
    for (const [mine, theirs] of [
      [this.#positive, other.#positive],
      [this.#negative, other.#negative],
    ] as const) {
      for (let k = 0; k < theirs.counts.length; k++) {
        if (theirs.counts[k]! > 0) mine.add(theirs.offset + k, theirs.counts[k]!);
      }
    }
    this.#zeroCount += other.#zeroCount;
    this.#sum += other.#sum;
    if (other.#min < this.#min) this.#min = other.#min;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  quantile(q: number): number | undefined {
    if (!(q >= 0 && q <= 1)) throw new InvalidArgumentError(`quantile must lie in [0, 1], got ${q}`);
    const count = this.count;
    if (count === 0) return undefined;
    if (q === 0) return this.#min;
    if (q === 1) return this.#max;
    const rank = q * (count - 1);
    let estimate: number | undefined;
    let seen = 0;
    const negative = this.#negative;
    for (let k = negative.counts.length - 1; k >= 0 && estimate === undefined; k--) {
      seen += negative.counts[k]!;
      if (seen > rank) estimate = -this.#value(negative.offset + k);
    }
    if (estimate === undefined) {
      seen += this.#zeroCount;
      if (seen > rank) estimate = 0;
    }
    const positive = this.#positive;
    for (let k = 0; k < positive.counts.length && estimate === undefined; k++) {
      seen += positive.counts[k]!;
      if (seen > rank) estimate = this.#value(positive.offset + k);
    }
    return Math.min(this.#max, Math.max(this.#min, estimate ?? this.#max));
  }

  copy(): QuantileSketch {
    const copy = new DDSketch(this.relativeAccuracy, this.maxBuckets);
    copy.#restore(this.toJSON());
    return copy;
  }

  #restore(json: QuantileSketchJson): void {
    this.#zeroCount = json.zeroCount;
    this.#sum = json.sum;
    this.#min = json.min ?? Infinity;
    this.#max = json.max ?? -Infinity;
    for (const [store, side] of [
      [this.#positive, json.positive],
      [this.#negative, json.negative],
    ] as const) {
      store.counts = side.counts.slice();
      store.offset = side.offset;
      store.total = side.counts.reduce((a, b) => a + b, 0);
    }
  }

  toJSON(): QuantileSketchJson {
    const empty = this.count === 0;
    return {
      format: QUANTILE_SKETCH_FORMAT,
      relativeAccuracy: this.relativeAccuracy,
      maxBuckets: this.maxBuckets,
      count: this.count,
      sum: this.#sum,
      min: empty ? null : this.#min,
      max: empty ? null : this.#max,
      zeroCount: this.#zeroCount,
      positive: { offset: this.#positive.offset, counts: this.#positive.counts.slice() },
      negative: { offset: this.#negative.offset, counts: this.#negative.counts.slice() },
    };
  }

  serialize(): Uint8Array {
    const writer = new ByteWriter();
    writer.byte(QUANTILE_SKETCH_FORMAT);
    writer.float64(this.relativeAccuracy);
    writer.varint(this.maxBuckets);
    writer.float64(this.#sum);
    writer.float64(this.#min);
    writer.float64(this.#max);
    writer.varint(this.#zeroCount);
    for (const store of [this.#positive, this.#negative]) {
      writer.varint(zigzag(store.offset));
      writer.varint(store.counts.length);
      for (const c of store.counts) writer.varint(c);
    }
    return writer.bytes();
  }

  static fromJson(json: QuantileSketchJson): DDSketch {
    const sketch = new DDSketch(json.relativeAccuracy, json.maxBuckets);
    sketch.#restore(json);
    return sketch;
  }
}

function validateOptions(relativeAccuracy: number, maxBuckets: number): void {
  if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) {
    throw new InvalidArgumentError(
      `relativeAccuracy must lie in (0, 1), got ${relativeAccuracy}; 0.01 is 1 %`,
    );
  }
  if (!Number.isInteger(maxBuckets) || maxBuckets < 2 || maxBuckets > MAX_BUCKETS_LIMIT) {
    throw new InvalidArgumentError(
      `maxBuckets must be an integer in [2, ${MAX_BUCKETS_LIMIT}], got ${maxBuckets}`,
    );
  }
}

/**
 * Creates an empty DDSketch.
 *
 * @throws InvalidArgumentError for a relative accuracy outside (0, 1) or a bad bucket limit.
 */
export function createQuantileSketch(options: QuantileSketchOptions = {}): QuantileSketch {
  const relativeAccuracy = options.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY;
  const maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  validateOptions(relativeAccuracy, maxBuckets);
  return new DDSketch(relativeAccuracy, maxBuckets);
}

/**
 * Reads a sketch written by {@link QuantileSketch.serialize} (bytes) or
 * {@link QuantileSketch.toJSON} (object, e.g. after `JSON.parse`).
 *
 * @throws InvalidArgumentError when the input is not a valid sketch of a known format.
 */
export function deserializeQuantileSketch(input: Uint8Array | QuantileSketchJson): QuantileSketch {
  const json = input instanceof Uint8Array ? decodeBytes(input) : input;
  validateJson(json);
  return DDSketch.fromJson(json);
}

function fail(problem: string): never {
  throw new InvalidArgumentError(
    `quantile sketch is invalid: ${problem}; pass the output of serialize() or toJSON()`,
  );
}

function validateJson(json: QuantileSketchJson): void {
  if (typeof json !== 'object' || json === null) fail('not an object');
  if (json.format !== QUANTILE_SKETCH_FORMAT) {
    fail(`format ${String(json.format)} is not ${QUANTILE_SKETCH_FORMAT}, the one this build reads`);
  }
  if (typeof json.relativeAccuracy !== 'number' || typeof json.maxBuckets !== 'number') {
    fail('relativeAccuracy and maxBuckets must be numbers');
  }
  try {
    validateOptions(json.relativeAccuracy, json.maxBuckets);
  } catch (cause) {
    fail((cause as Error).message);
  }
  const isCount = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!isCount(json.zeroCount)) fail('zeroCount must be a non-negative integer');
  let total = json.zeroCount;
  for (const [name, side] of [
    ['positive', json.positive],
    ['negative', json.negative],
  ] as const) {
    if (typeof side !== 'object' || side === null || !Array.isArray(side.counts))
      fail(`${name} buckets missing`);
    if (!Number.isSafeInteger(side.offset)) fail(`${name} offset must be an integer`);
    if (side.counts.length > json.maxBuckets) fail(`${name} holds more than maxBuckets buckets`);
    for (const c of side.counts) {
      if (!isCount(c)) fail(`${name} bucket counts must be non-negative integers`);
      total += c;
    }
  }
  if (json.count !== total) fail(`count ${json.count} is not the sum of the bucket counts (${total})`);
  if (typeof json.sum !== 'number' || !Number.isFinite(json.sum)) fail('sum must be a finite number');
  const ordered =
    typeof json.min === 'number' &&
    typeof json.max === 'number' &&
    Number.isFinite(json.min) &&
    json.min <= json.max;
  if (total === 0 ? json.min !== null || json.max !== null : !ordered) {
    fail('min and max must be null for an empty sketch and ordered otherwise');
  }
}

function zigzag(n: number): number {
  return n >= 0 ? 2 * n : -2 * n - 1;
}

function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

class ByteWriter {
  #bytes: number[] = [];

  byte(b: number): void {
    this.#bytes.push(b);
  }

  // Arithmetic (not bitwise) so that counts up to 2^53 survive.
  varint(n: number): void {
    while (n >= 128) {
      this.#bytes.push((n % 128) + 128);
      n = Math.floor(n / 128);
    }
    this.#bytes.push(n);
  }

  float64(x: number): void {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x, true);
    for (let i = 0; i < 8; i++) this.#bytes.push(view.getUint8(i));
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }
}

function decodeBytes(bytes: Uint8Array): QuantileSketchJson {
  let at = 0;
  const need = (n: number): void => {
    if (at + n > bytes.length) fail(`truncated at byte ${at} of ${bytes.length}`);
  };
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      need(1);
      const b = bytes[at++]!;
      result += (b % 128) * scale;
      if (b < 128) return result;
      scale *= 128;
      if (scale > 2 ** 56) fail('varint too long');
    }
  };
  const float64 = (): number => {
    need(8);
    const value = new DataView(bytes.buffer, bytes.byteOffset + at, 8).getFloat64(0, true);
    at += 8;
    return value;
  };
  need(1);
  const format = bytes[at++]!;
  if (format !== QUANTILE_SKETCH_FORMAT) fail(`format ${format} is not ${QUANTILE_SKETCH_FORMAT}`);
  const relativeAccuracy = float64();
  const maxBuckets = varint();
  const sum = float64();
  const min = float64();
  const max = float64();
  const zeroCount = varint();
  const sides: { offset: number; counts: number[] }[] = [];
  for (let s = 0; s < 2; s++) {
    const offset = unzigzag(varint());
    const length = varint();
    if (length > maxBuckets) fail('more buckets than maxBuckets');
    const counts: number[] = [];
    for (let k = 0; k < length; k++) counts.push(varint());
    sides.push({ offset, counts });
  }
  if (at !== bytes.length) fail(`${bytes.length - at} trailing bytes`);
  const count = zeroCount + sides.flatMap((s) => s.counts).reduce((a, b) => a + b, 0);
  return {
    format: QUANTILE_SKETCH_FORMAT,
    relativeAccuracy,
    maxBuckets,
    count,
    sum,
    min: count === 0 ? null : min,
    max: count === 0 ? null : max,
    zeroCount,
    positive: sides[0]!,
    negative: sides[1]!,
  };
}
