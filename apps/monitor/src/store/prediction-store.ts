/** One prediction as the monitor stores it. */
export interface Prediction {
  /** The request's trace id; a shadow prediction carries its primary's. */
  readonly requestId: string;
  readonly variant: string;
  readonly deployment: string;
  readonly model: string;
  readonly version: number;
  /** The model's input; empty when the request failed before it was built. */
  readonly features: Float32Array;
  /** The model's first output, flattened. */
  readonly outputs: Float64Array;
  readonly latencyMs: number;
  /** gRPC status code name, `OK` on success. */
  readonly status: string;
  /** Prediction time, epoch ms. */
  readonly timeMs: number;
  readonly experiment: string;
  readonly experimentArm: string;
  readonly unitKey: string;
  /** `predict`, `infer`, `batch` or `stream`. */
  readonly source: string;
  readonly shadow: boolean;
  readonly featureSetHash: string;
  readonly entityKeys: Readonly<Record<string, string>>;
  /** The error message when `status` is not OK. */
  readonly error: string;
}

/** What an insert did. */
export interface InsertOutcome {
  /** Records stored by this insert. */
  readonly accepted: number;
  /** Records whose (request id, variant) was already stored; nothing was written for them. */
  readonly duplicates: number;
}

/** Which records to list; unset fields do not filter. */
export interface PredictionQuery {
  readonly deployment?: string;
  readonly variant?: string;
  readonly requestId?: string;
  readonly shadow?: boolean;
  /** At most this many records, newest first. */
  readonly limit: number;
}

/** A page of records and how many matched in all. */
export interface PredictionPage {
  /** Newest first (ties by request id, then variant). */
  readonly records: Prediction[];
  /** Records matching the query before the limit. */
  readonly total: number;
}

/** The records of one deployment in a time range, for windowed analysis. */
export interface WindowQuery {
  readonly deployment: string;
  /** Only this variant; undefined: every variant. */
  readonly variant?: string;
  /** Prediction time from (inclusive) and to (exclusive), epoch ms. */
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Where prediction records live. SQLite implements it today (`createSqlitePredictionStore`, which
 * also implements the analysis queries of `MonitorStore`).
 *
 * Contract, whatever the implementation:
 * - `insert` is atomic and durable once it resolves, and idempotent by (request id, variant): a
 *   record under a stored key is a duplicate and leaves the stored one untouched.
 * - `list` returns records newest first by prediction time.
 * - `deleteBefore` removes records whose prediction time is before the cutoff, in small batches
 *   so ingestion is never locked out for long.
 */
export interface PredictionStore {
  insert(records: readonly Prediction[]): Promise<InsertOutcome>;
  list(query: PredictionQuery): Promise<PredictionPage>;
  /** Every record of a deployment (optionally one variant) in the window, oldest first. */
  window(query: WindowQuery): Promise<Prediction[]>;
  /** Resolves with the number of records deleted. */
  deleteBefore(cutoffMs: number): Promise<number>;
}
