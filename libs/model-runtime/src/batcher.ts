import { elapsedMicros } from './clock.js';
import type { NumericArray, TensorBuffer } from './datatypes.js';
import { InvalidArgumentError, UnavailableError } from '@slipway/errors';
import type { ExecutionResult, Executor } from './executor.js';
import type { ModelSignature } from './model-signature.js';
import type { DecodedInput, DecodedRequest, HostTensor } from './tensor-codec.js';

/** Dynamic batching settings of one model version (Triton's `dynamic_batching`). */
export interface BatcherOptions {
  /** Most rows (sum of the requests' first dimensions) one run may take. */
  readonly maxBatchSize: number;
  /** How long the first queued request may wait for others before its batch runs anyway. */
  readonly maxQueueDelayMicros: number;
  /**
   * Batch sizes (rows) to aim for. A batch that reaches the largest one runs at once; when the
   * delay expires, the queue is cut into batches of preferred sizes where the requests allow.
   */
  readonly preferredBatchSizes?: readonly number[];
  /**
   * Default true: a queued batch also runs as soon as the executor has a free slot at the end of
   * the current event-loop turn, so requests that arrived together run together and a lone
   * request at low load waits for nothing (Node's timers cannot wait less than ~1 ms, which made
   * a 500 µs delay cost 1.5 ms at concurrency 1). Under load the executor is busy and batches keep
   * filling until it frees up or `maxQueueDelayMicros` passes. False: Triton's behaviour, always
   * wait for the delay or a full batch.
   */
  readonly flushWhenIdle?: boolean;
}

/** Per-request execution facts, for spans and metrics. */
export interface InferTiming {
  /** Time from submission until the run that answered the request started. */
  readonly queueTimeMicros: number;
  /** Rows in the run that answered the request (1 when the model has no batch dimension). */
  readonly batchSize: number;
  /** Requests answered by that run. */
  readonly batchRequests: number;
  /** Time inside session.run for that run. */
  readonly inferenceMicros: number;
  /**
   * True for exactly one request of each run (the first), so per-run facts (batch size,
   * inference time) can be counted once per run rather than once per request.
   */
  readonly firstOfRun: boolean;
}

/** The output tensors of one request and how they were computed. */
export interface BatchResult {
  readonly outputs: Readonly<Record<string, HostTensor>>;
  readonly timing: InferTiming;
}

/** Queues decoded requests of one model version and runs them, batched where possible. */
export interface Batcher {
  /** Runs a decoded request, alone or batched with compatible ones. Never drops a request. */
  submit(request: DecodedRequest): Promise<BatchResult>;
  /** Runs everything queued at once, waits for all runs in flight, then refuses new work. Idempotent. */
  close(): Promise<void>;
}

/** What the batcher needs to know about the model. */
export interface CreateBatcherArgs {
  readonly signature: ModelSignature;
  readonly executor: Executor;
  /** Batching settings; undefined runs every request alone, at once. */
  readonly options?: BatcherOptions | undefined;
}

interface Entry {
  readonly request: DecodedRequest;
  /** Rows along dim 0, or undefined when the request cannot be batched. */
  readonly rows: number | undefined;
  readonly submittedAt: number;
  readonly resolve: (result: BatchResult) => void;
  readonly reject: (error: unknown) => void;
}

interface Group {
  readonly key: string;
  readonly entries: Entry[];
  rows: number;
  timer: NodeJS.Timeout | undefined;
}

function checkOptions(options: BatcherOptions): void {
  const { maxBatchSize, maxQueueDelayMicros, preferredBatchSizes = [] } = options;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1)
    throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
  if (!Number.isFinite(maxQueueDelayMicros) || maxQueueDelayMicros < 0) {
    throw new RangeError(`maxQueueDelayMicros must be zero or more, got ${maxQueueDelayMicros}`);
  }
  for (const size of preferredBatchSizes) {
    if (!Number.isInteger(size) || size < 1 || size > maxBatchSize) {
      throw new RangeError(
        `preferredBatchSizes must be integers from 1 to maxBatchSize (${maxBatchSize}), got ${size}`,
      );
    }
  }
}

/** Rows of a request when every input shares the same first dimension; undefined otherwise. */
function requestRows(request: DecodedRequest): number | undefined {
  let rows: number | undefined;
  for (const input of request.inputs.values()) {
    const first = input.dims[0];
    if (first === undefined || (rows !== undefined && first !== rows)) return undefined;
    rows = first;
  }
  return rows !== undefined && rows > 0 ? rows : undefined;
}

function compatibilityKey(request: DecodedRequest): string {
  return [...request.inputs.values()].map((t) => t.dims.slice(1).join('x')).join(';');
}

function concatRows(parts: readonly HostTensor[], totalRows: number): DecodedInput {
  const first = parts[0] as HostTensor;
  const dims = [totalRows, ...first.dims.slice(1)];
  if (Array.isArray(first.data)) {
    return { datatype: first.datatype, dims, data: parts.flatMap((p) => p.data as string[]), owned: true };
  }
  const length = parts.reduce((n, p) => n + p.data.length, 0);
  const out = new (first.data.constructor as new (n: number) => NumericArray)(length);
  let offset = 0;
  for (const p of parts) {
    (out as Uint8Array).set(p.data as Uint8Array, offset);
    offset += p.data.length;
  }
  return { datatype: first.datatype, dims, data: out, owned: true };
}

function sliceRows(tensor: HostTensor, fromRow: number, rows: number): HostTensor {
  const perRow = tensor.dims.slice(1).reduce((n, d) => n * d, 1);
  const data: TensorBuffer = Array.isArray(tensor.data)
    ? tensor.data.slice(fromRow * perRow, (fromRow + rows) * perRow)
    : tensor.data.subarray(fromRow * perRow, (fromRow + rows) * perRow);
  return { datatype: tensor.datatype, dims: [rows, ...tensor.dims.slice(1)], data };
}

/** Cuts a flushed queue into runs, taking the longest prefix that makes a preferred size each time. */
function cutBatches(entries: readonly Entry[], preferred: readonly number[]): Entry[][] {
  const batches: Entry[][] = [];
  let rest = entries.slice();
  while (rest.length > 0) {
    let take = rest.length;
    if (preferred.length > 0) {
      let rows = 0;
      let best = -1;
      rest.forEach((e, i) => {
        rows += e.rows as number;
        if (preferred.includes(rows)) best = i;
      });
      if (best >= 0) take = best + 1;
    }
    batches.push(rest.slice(0, take));
    rest = rest.slice(take);
  }
  return batches;
}

class DynamicBatcher implements Batcher {
  readonly #executor: Executor;
  readonly #options: BatcherOptions | undefined;
  readonly #batchable: boolean;
  readonly #groups = new Map<string, Group>();
  readonly #inFlight = new Set<Promise<void>>();
  // Outputs found not to follow the batch dimension: requests fetching them run alone from then on.
  readonly #unsplittable = new Set<string>();
  readonly #flushAt: number;
  #closing: Promise<void> | undefined;
  #idleCheck: NodeJS.Immediate | undefined;

  constructor({ signature, executor, options }: CreateBatcherArgs) {
    if (options) checkOptions(options);
    this.#executor = executor;
    this.#options = options;
    this.#batchable =
      signature.inputs.length > 0 &&
      signature.inputs.every((s) => s.rankKnown && s.shape.length > 0 && s.shape[0] === -1);
    const preferred = options?.preferredBatchSizes ?? [];
    this.#flushAt = preferred.length > 0 ? Math.max(...preferred) : (options?.maxBatchSize ?? 1);
  }

  submit(request: DecodedRequest): Promise<BatchResult> {
    if (this.#closing)
      return Promise.reject(
        new UnavailableError(
          'the model is shutting down and takes no new requests; retry on another replica',
        ),
      );
    return new Promise((resolve, reject) => {
      const rows = this.#batchable ? requestRows(request) : undefined;
      const entry: Entry = { request, rows, submittedAt: performance.now(), resolve, reject };
      const options = this.#options;
      if (!options || rows === undefined || request.outputs.some((o) => this.#unsplittable.has(o))) {
        this.#dispatch([entry]);
        return;
      }
      if (rows > options.maxBatchSize) {
        reject(
          new InvalidArgumentError(
            `batch of ${rows} rows exceeds the configured maximum ${options.maxBatchSize}; split the request`,
          ),
        );
        return;
      }
      const key = compatibilityKey(request);
      let group = this.#groups.get(key);
      if (group && group.rows + rows > options.maxBatchSize) {
        this.#flush(group, false);
        group = undefined;
      }
      if (!group) {
        const created: Group = { key, entries: [], rows: 0, timer: undefined };
        created.timer = setTimeout(() => this.#flush(created, true), options.maxQueueDelayMicros / 1000);
        this.#groups.set(key, created);
        group = created;
        this.#scheduleIdleFlush();
      }
      group.entries.push(entry);
      group.rows += rows;
      if (group.rows >= this.#flushAt) this.#flush(group, false);
    });
  }

  /** After this event-loop turn, runs waiting batches while the executor has free slots. */
  #scheduleIdleFlush(): void {
    if (this.#options?.flushWhenIdle === false || this.#idleCheck || this.#groups.size === 0) return;
    this.#idleCheck = setImmediate(() => {
      this.#idleCheck = undefined;
      for (const group of [...this.#groups.values()]) {
        if (this.#inFlight.size >= this.#executor.concurrency) break;
        this.#flush(group, false);
      }
    });
  }

  #flush(group: Group, expired: boolean): void {
    clearTimeout(group.timer);
    if (this.#groups.get(group.key) === group) this.#groups.delete(group.key);
    const preferred = expired || this.#closing ? (this.#options?.preferredBatchSizes ?? []) : [];
    for (const batch of cutBatches(group.entries, preferred)) this.#dispatch(batch);
  }

  #dispatch(entries: Entry[]): void {
    const run = this.#execute(entries).catch((error: unknown) => {
      for (const e of entries) e.reject(error);
    });
    this.#inFlight.add(run);
    void run.finally(() => {
      this.#inFlight.delete(run);
      this.#scheduleIdleFlush();
    });
  }

  async #execute(entries: readonly Entry[]): Promise<void> {
    if (entries.length === 1) {
      const entry = entries[0] as Entry;
      const result = await this.#runAlone(entry);
      entry.resolve(result);
      return;
    }
    const started = performance.now();
    const totalRows = entries.reduce((n, e) => n + (e.rows as number), 0);
    const names = [...new Set(entries.flatMap((e) => e.request.outputs))];
    const inputs = new Map<string, DecodedInput>();
    for (const name of (entries[0] as Entry).request.inputs.keys()) {
      inputs.set(
        name,
        concatRows(
          entries.map((e) => e.request.inputs.get(name) as DecodedInput),
          totalRows,
        ),
      );
    }
    let result: ExecutionResult | undefined;
    try {
      result = await this.#executor.run(inputs, names);
    } catch {
      // One bad request must not fail its neighbours: run each alone to find out whose it was.
    }
    const unsplittable = result ? names.filter((n) => result.outputs[n]?.dims[0] !== totalRows) : [];
    for (const name of unsplittable) this.#unsplittable.add(name);
    if (!result || unsplittable.length > 0) {
      await Promise.all(
        entries.map((e) =>
          this.#runAlone(e).then(
            (r) => e.resolve(r),
            (error: unknown) => e.reject(error),
          ),
        ),
      );
      return;
    }
    let row = 0;
    let first = true;
    for (const e of entries) {
      const rows = e.rows as number;
      const outputs: Record<string, HostTensor> = {};
      for (const name of e.request.outputs)
        outputs[name] = sliceRows(result.outputs[name] as HostTensor, row, rows);
      row += rows;
      e.resolve({
        outputs,
        timing: {
          queueTimeMicros: elapsedMicros(e.submittedAt, started) + result.queueMicros,
          batchSize: totalRows,
          batchRequests: entries.length,
          inferenceMicros: result.inferenceMicros,
          firstOfRun: first,
        },
      });
      first = false;
    }
  }

  async #runAlone(entry: Entry): Promise<BatchResult> {
    const started = performance.now();
    const result = await this.#executor.run(entry.request.inputs, entry.request.outputs);
    return {
      outputs: result.outputs,
      timing: {
        queueTimeMicros: elapsedMicros(entry.submittedAt, started) + result.queueMicros,
        batchSize: entry.rows ?? 1,
        batchRequests: 1,
        inferenceMicros: result.inferenceMicros,
        firstOfRun: true,
      },
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const group of [...this.#groups.values()]) this.#flush(group, true);
      while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    })();
    return this.#closing;
  }
}

/**
 * Creates a dynamic batcher for one loaded model version, in the manner of Triton's.
 *
 * A model can be batched when every input has a dynamic first dimension (-1). Requests are
 * compatible when their non-batch dimensions match (datatypes are fixed by the signature); they
 * are concatenated along dimension 0 up to `maxBatchSize` rows, run as one session.run, and the
 * outputs are split back by rows. An output whose first dimension is not the batch total cannot
 * be split: such requests then run alone. Requests that cannot be batched run alone at once.
 * A batch runs when it reaches `maxBatchSize` (or the largest preferred size), when the executor
 * has a free slot at the end of the event-loop turn (unless `flushWhenIdle` is false), or at the
 * latest `maxQueueDelayMicros` after its first request arrived.
 */
export function createBatcher(args: CreateBatcherArgs): Batcher {
  return new DynamicBatcher(args);
}
