import type { QuantileSketch } from '@slipway/monitoring';
import type { InsertOutcome, Prediction, PredictionStore } from './prediction-store.js';

/** A delayed label or a KPI event, as stored. */
export interface OutcomeRecord {
  /** The idempotency key (sent, or derived by the service). */
  readonly outcomeId: string;
  /** '' when the outcome belongs to a unit. */
  readonly requestId: string;
  /** '' when the outcome belongs to a request. */
  readonly unitKey: string;
  /** Set with a unit key; may be '' for a request's outcome. */
  readonly deployment: string;
  /** The true label; undefined for a KPI event. */
  readonly label: number | undefined;
  /** '' for a bare label. */
  readonly kpi: string;
  readonly value: number;
  /** When it happened, epoch ms. */
  readonly timeMs: number;
}

/** What an insert of records did, with the accepted records counted per series and status. */
export interface RecordsInsertOutcome extends InsertOutcome {
  readonly stored: readonly StoredCount[];
}

/** Accepted records of one (deployment, variant, status). */
export interface StoredCount {
  readonly deployment: string;
  readonly variant: string;
  readonly status: string;
  readonly count: number;
}

/** One series of traffic: a variant serving one version, primary or shadow. */
export interface SeriesKey {
  readonly deployment: string;
  readonly variant: string;
  readonly model: string;
  readonly version: number;
  readonly shadow: boolean;
}

/** A series' traffic over a time range. */
export interface Traffic extends SeriesKey {
  readonly requests: number;
  /** Requests whose status is not OK. */
  readonly errors: number;
  /** Requests by gRPC status code name. */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Latencies in ms (records with a finite, non-negative latency). */
  readonly latency: QuantileSketch;
}

/** A time range of one deployment (or of all, where allowed); from inclusive, to exclusive. */
export interface RangeQuery {
  readonly deployment: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** The scored records of one version of a variant, for drift. */
export interface DriftSampleQuery extends RangeQuery {
  readonly variant: string;
  readonly model: string;
  readonly version: number;
  /** Records of another feature set (a non-empty, different hash) are left out. */
  readonly featureSetHash: string;
  /** At most this many rows, evenly spaced over the matching ones. */
  readonly limit: number;
}

/** A drift sample: feature vectors and the first output of the same rows (NaN when none). */
export interface DriftSample {
  /** Matching records in the range, before sampling. */
  readonly matched: number;
  readonly features: Float32Array[];
  readonly scores: number[];
}

/** Primary predictions of a deployment; variant undefined: every non-shadow variant. */
export interface ScoredQuery extends RangeQuery {
  readonly variant?: string;
}

/** A successful prediction with its label. */
export interface LabelledPrediction {
  readonly requestId: string;
  readonly timeMs: number;
  /** The first output. */
  readonly score: number;
  readonly label: number;
}

/** A shadow prediction and its primary (same request id), both successful. */
export interface ShadowPairRow {
  readonly requestId: string;
  readonly primaryVariant: string;
  readonly shadowVariant: string;
  readonly primaryScore: number;
  readonly shadowScore: number;
  readonly primaryLatencyMs: number;
  readonly shadowLatencyMs: number;
}

/** The unit of an experiment and the arm it was first assigned to. */
export interface ExperimentUnit {
  readonly unitKey: string;
  readonly deployment: string;
  readonly arm: string;
  readonly firstTimeMs: number;
}

/**
 * The prediction store with outcomes and the queries the analyses need. Contract, beyond
 * {@link PredictionStore}'s:
 * - `insert` also updates, in the same transaction, the per-minute rollups and the experiment
 *   assignments of the records it accepts;
 * - `insertOutcomes` is atomic, durable once it resolves and idempotent by outcome id;
 * - `traffic` answers exactly for [from, to): whole minutes from the rollups, the partial
 *   minutes at either end from the records;
 * - `deleteBefore` deletes records before the cutoff, and rollups, outcomes and experiment
 *   assignments before an earlier cutoff (they are kept longer).
 */
export interface MonitorStore extends PredictionStore {
  insert(records: readonly Prediction[]): Promise<RecordsInsertOutcome>;
  insertOutcomes(outcomes: readonly OutcomeRecord[]): Promise<InsertOutcome>;
  /** Whether any record of the deployment was ever stored (and its rollups are still kept). */
  hasDeployment(deployment: string): Promise<boolean>;
  /** Deployments with rollups, sorted. */
  deployments(): Promise<string[]>;
  /** Traffic per series in the range; deployment undefined: every deployment. */
  traffic(query: Omit<RangeQuery, 'deployment'> & { readonly deployment?: string }): Promise<Traffic[]>;
  /** Shadow records per shadow variant in the range. */
  shadowCounts(query: RangeQuery): Promise<Map<string, number>>;
  driftSample(query: DriftSampleQuery): Promise<DriftSample>;
  /** Successful predictions with a score, per bucket of `bucketMs` (epoch-aligned bucket start → count). */
  predictionCounts(query: ScoredQuery & { readonly bucketMs: number }): Promise<Map<number, number>>;
  /** Successful predictions joined with their newest label (by request id), oldest first. */
  labelledPredictions(query: ScoredQuery): Promise<LabelledPrediction[]>;
  /** Calls `onBatch` with the shadow pairs of the range, oldest first, in batches. */
  shadowPairs(query: RangeQuery, onBatch: (pairs: readonly ShadowPairRow[]) => void): Promise<void>;
  /** The units of an experiment, in order of first assignment. */
  experimentUnits(experiment: string): Promise<ExperimentUnit[]>;
  /** Experiments with units, sorted. */
  experiments(): Promise<string[]>;
  /**
   * Per unit of the experiment, the sum of its outcomes of the KPI: outcomes by unit key (and
   * the unit's deployment), plus outcomes by the request id of one of its predictions that do
   * not name the unit themselves. Units without outcomes are left out.
   */
  kpiTotals(experiment: string, kpi: string): Promise<Map<string, number>>;
  /** KPI names of stored outcomes, sorted. */
  kpis(): Promise<string[]>;
}
