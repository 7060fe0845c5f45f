import type { Hash } from 'node:crypto';
import { createHash } from 'node:crypto';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { features, registry, type monitor } from '@slipway/contracts';
import { FailedPreconditionError, InvalidArgumentError } from '@slipway/errors';
import type { FittedFeatureSet } from '@slipway/features';
import { createRecordSink, type RecordSink } from '@slipway/monitor-client';
import { createTabularScorer, loadModel, type LoadedModel, type TabularScorer } from '@slipway/model-runtime';
import { createArtifactCache } from '@slipway/registry-client';
import { createClient, createLogger, type Logger } from '@slipway/service-kit';
import { inputFormatOf, openInput, type InputItem, type InputReader } from './input.js';
import { MANIFEST_FORMAT, type RunManifest, type RunStatus } from './manifest.js';
import { acquireOutputLock } from './output-lock.js';
import { csvField, formatScore, isSampled, outputHeader, requestIdOf, runIdOf } from './output-format.js';
import { fetchFeatureSet, resolveVersion, type ResolvedVersion } from './resolve.js';
import {
  CHECKPOINT_FORMAT,
  fingerprintDifference,
  hashWholeFile,
  readCheckpoint,
  resumeFile,
  writeAll,
  writeAtomically,
  type Checkpoint,
  type Durations,
  type FileState,
  type RunFingerprint,
} from './run-files.js';
import {
  buildRow,
  checkColumns,
  createRowPlan,
  isScoring,
  type EntityColumns,
  type RejectedRow,
  type ScoringRow,
} from './rows.js';
import { calling } from './service-errors.js';
import { createVectorSource, type VectorSource } from './vectors.js';

/** What to score, with what, and where the platform is. */
export interface BatchRunOptions {
  /** The deployment whose stable version scores the rows. */
  readonly deployment: string;
  /** Pins a version of the deployment's model instead of its stable one. */
  readonly version?: number;
  /** A `.csv` (with a header line) or `.jsonl` file. */
  readonly input: string;
  /** The scores CSV; `<output>.manifest.json`, `.checkpoint.json` and `.lock` go next to it. */
  readonly output: string;
  /** Rejected rows, one JSON object per line. Default `<output>.rejects.jsonl`. */
  readonly rejects?: string;
  /**
   * Entity key → input column, when a column is named otherwise than its key; or just the column
   * when the feature set has one entity key.
   */
  readonly entityColumns?: EntityColumns;
  /** Column copied to each output row's `id` (default `id`; the row number when absent). */
  readonly idColumn?: string;
  /** Point-in-time features as of this time instead of the online store's latest values. */
  readonly asOf?: Date;
  /** Time written in every output row. Default: when the run first started. */
  readonly predictionTime?: Date;
  /** Largest share of rejected rows for the run to succeed, 0 to 1. Default 0.01. */
  readonly errorBudget?: number;
  /** Rows per feature-service call and model run. Default 1024. */
  readonly batchSize?: number;
  /** Rows between checkpoints; rounded up to a multiple of batchSize. Default 50,000. */
  readonly checkpointEvery?: number;
  /** Share of predictions sent to the monitor, 0 to 1 (needs monitorAddress). Default 0.01. */
  readonly recordSample?: number;
  readonly registryAddress: string;
  readonly featuresAddress: string;
  /** The monitor; unset: no predictions are recorded. */
  readonly monitorAddress?: string;
  readonly token?: string;
  /** Verified model artifacts, by sha256. */
  readonly cacheDir: string;
  /** Called after every chunk written. */
  readonly onProgress?: (progress: BatchProgress) => void;
  /** Human notices: resuming, warnings. */
  readonly onNotice?: (message: string) => void;
  /** Stops the run after the chunks in flight, with a checkpoint (status `interrupted`). */
  readonly signal?: AbortSignal;
  /** For the monitor record sink's warnings. Default: warnings to stderr. */
  readonly logger?: Logger;
}

/** Where a run is. */
export interface BatchProgress {
  readonly rowsRead: number;
  readonly rowsScored: number;
  readonly rowsRejected: number;
  /** Rows this attempt has done (not those taken from a checkpoint). */
  readonly rowsThisAttempt: number;
  readonly bytesRead: number;
  readonly totalBytes: number;
  /** Since this attempt started scoring. */
  readonly elapsedMs: number;
  readonly resumedFromRow: number;
}

const DEFAULTS = { errorBudget: 0.01, batchSize: 1024, checkpointEvery: 50_000, recordSample: 0.01 };
/** Chunks whose features and scores are computed while earlier ones are written. */
const PIPELINE_DEPTH = 2;
const MAX_BATCH_SIZE = 65_536;

/** The files of a run: `<output>.manifest.json`, `<output>.checkpoint.json` and `<output>.lock`. */
export function runFiles(output: string): { manifest: string; checkpoint: string; lock: string } {
  return {
    manifest: `${output}.manifest.json`,
    checkpoint: `${output}.checkpoint.json`,
    lock: `${output}.lock`,
  };
}

function checkFraction(value: number, flag: string): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidArgumentError(`${flag} ${value} must be a fraction from 0 to 1 (e.g. 0.01 for 1%)`);
  }
  return value;
}

function checkCount(value: number, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(`${flag} ${value} must be a whole number from 1 to ${max}`);
  }
  return value;
}

interface Settings {
  readonly input: string;
  readonly output: string;
  readonly rejects: string;
  readonly errorBudget: number;
  readonly batchSize: number;
  readonly checkpointEvery: number;
  readonly recordSample: number;
}

function settingsOf(options: BatchRunOptions): Settings {
  const input = path.resolve(options.input);
  const output = path.resolve(options.output);
  const rejects = path.resolve(options.rejects ?? `${options.output}.rejects.jsonl`);
  if (new Set([input, output, rejects]).size !== 3) {
    throw new InvalidArgumentError('--input, --output and --reject must be three different files');
  }
  const batchSize = checkCount(options.batchSize ?? DEFAULTS.batchSize, '--batch-size', MAX_BATCH_SIZE);
  const every = checkCount(options.checkpointEvery ?? DEFAULTS.checkpointEvery, '--checkpoint-every');
  return {
    input,
    output,
    rejects,
    errorBudget: checkFraction(options.errorBudget ?? DEFAULTS.errorBudget, '--error-budget'),
    batchSize,
    // Checkpoints fall on chunk boundaries, so a resumed run cuts the rows into the same chunks.
    checkpointEvery: Math.ceil(every / batchSize) * batchSize,
    recordSample: checkFraction(options.recordSample ?? DEFAULTS.recordSample, '--record-sample'),
  };
}

/** A chunk of input rows: rows (`first`, `last`], all of them, rejected ones included. */
interface Chunk {
  readonly last: number;
  readonly items: readonly InputItem[];
}

/** A chunk scored and rendered, ready to append. */
interface ScoredChunk {
  readonly last: number;
  readonly rows: number;
  readonly scored: number;
  readonly rejected: number;
  readonly output: Buffer;
  readonly rejects: Buffer;
  readonly records: readonly monitor.PredictionRecord[];
  readonly featuresMs: number;
  readonly inferenceMs: number;
}

/** The message of whatever stopped a run, for its manifest. */
function failureMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Scores a file with a deployment's model: resolves the version and its fitted feature set,
 * loads the verified artifact in this process, streams the input in chunks of `batchSize` rows
 * (feature vectors from the feature service, one model run per chunk), and appends the scores
 * to the output CSV, bad rows to the reject file, a sample of predictions to the monitor.
 *
 * Resumable: every `checkpointEvery` rows the output and reject files are synced and a
 * checkpoint records their lengths and hashes. Started again with the same arguments after a
 * crash, a run cuts both files back to the checkpoint, skips the rows done, and continues with
 * the same run id, model version and prediction time, so its output is byte-identical to an
 * uninterrupted run's.
 *
 * One run at a time per output: the run holds `<output>.lock` (its pid and host) from before it
 * reads the checkpoint until it ends; a lock left by a process that is gone is taken over.
 *
 * Returns the manifest (also written to `<output>.manifest.json`). Status `failed` means the
 * rejected share exceeded the error budget; any other failure throws, after writing a manifest
 * with status `failed` and keeping the checkpoint.
 *
 * @throws OutputLockedError (a FailedPreconditionError) naming the holder's pid when another live
 *   run writes the same output.
 */
export async function runBatch(options: BatchRunOptions): Promise<RunManifest> {
  const started = performance.now();
  const settings = settingsOf(options);
  const lock = await acquireOutputLock(settings.output, options.onNotice);
  try {
    return await runLocked(options, settings, started);
  } finally {
    await lock.release();
  }
}

/** {@link runBatch} once the output's lock is held. */
async function runLocked(
  options: BatchRunOptions,
  settings: Settings,
  started: number,
): Promise<RunManifest> {
  const format = inputFormatOf(settings.input);
  const files = runFiles(settings.output);
  const inputState = await hashWholeFile(settings.input, 'input');
  const fingerprint: RunFingerprint = {
    deployment: options.deployment,
    version: options.version ?? null,
    input: settings.input,
    inputSha256: inputState.sha256,
    output: settings.output,
    rejects: settings.rejects,
    entityColumns: JSON.stringify(options.entityColumns ?? {}),
    idColumn: options.idColumn ?? 'id',
    asOf: options.asOf?.toISOString() ?? null,
    predictionTime: options.predictionTime?.toISOString() ?? null,
    batchSize: settings.batchSize,
  };
  const checkpoint = await readCheckpoint(files.checkpoint);
  if (checkpoint) {
    const difference = fingerprintDifference(checkpoint.fingerprint, fingerprint);
    if (difference !== undefined) {
      throw new FailedPreconditionError(
        `checkpoint "${files.checkpoint}" belongs to another run (${difference}); run the same command to resume it, or delete the checkpoint to start over`,
      );
    }
  }

  const clientOptions = { token: options.token, defaultDeadlineMs: 30_000 };
  const models = createClient(registry.ModelServiceService, options.registryAddress, clientOptions);
  const deployments = createClient(registry.DeploymentServiceService, options.registryAddress, clientOptions);
  const featureClient = createClient(features.FeatureServiceService, options.featuresAddress, clientOptions);
  let model: LoadedModel | undefined;
  let sink: RecordSink | undefined;
  try {
    const registryAt = <T>(call: () => Promise<T>): Promise<T> =>
      calling('registry', options.registryAddress, call);
    const resolved = await registryAt(() =>
      resolveVersion(models, deployments, options.deployment, checkpoint?.version ?? options.version),
    );
    if (checkpoint && resolved.artifactSha256 !== checkpoint.artifactSha256) {
      throw new FailedPreconditionError(
        `model "${resolved.model}" version ${resolved.version} now has artifact ${resolved.artifactSha256}, but the checkpoint was scored with ${checkpoint.artifactSha256}; delete the checkpoint to start over`,
      );
    }
    const fitted = await calling('feature service', options.featuresAddress, () =>
      fetchFeatureSet(featureClient, resolved.featureSet),
    );
    const artifact = await registryAt(() =>
      createArtifactCache({
        dir: options.cacheDir,
        // Artifacts can be large: the download is bounded by progress, not a fixed deadline.
        download: (request) => models.downloadArtifact(request, { deadline: Infinity }),
      }).fetch({
        model: resolved.model,
        version: resolved.version,
        sha256: resolved.artifactSha256,
        size: resolved.artifactSize,
      }),
    );
    const resolvedAt = performance.now();
    model = await loadModel({
      path: artifact,
      name: resolved.model,
      version: String(resolved.version),
      expectedSha256: resolved.artifactSha256,
    });
    const loadedAt = performance.now();
    const io = await createTabularScorer(model, fitted.columns.length, 'batch scoring', fitted.spec.name);
    const plan = createRowPlan(fitted, {
      ...(options.entityColumns ? { entityColumns: options.entityColumns } : {}),
      ...(options.idColumn ? { idColumn: options.idColumn } : {}),
    });
    const source = createVectorSource(
      featureClient,
      options.featuresAddress,
      resolved.featureSet,
      fitted.columns.length,
      options.asOf,
    );
    if (options.monitorAddress) {
      sink = createRecordSink({
        address: options.monitorAddress,
        ...(options.token ? { token: options.token } : {}),
        logger:
          options.logger ?? createLogger('batch-records', { level: 'warn', destination: process.stderr }),
      });
    }
    const run = new Run({
      options,
      settings,
      format,
      files,
      fingerprint,
      inputState,
      checkpoint,
      resolved,
      fitted,
      model,
      io,
      source,
      sink,
      plan,
      durations: {
        resolveMs: resolvedAt - started,
        loadMs: loadedAt - resolvedAt,
      },
      started,
    });
    return await run.execute();
  } finally {
    await sink?.close();
    await model?.close();
    models.close();
    deployments.close();
    featureClient.close();
  }
}

interface RunContext {
  readonly options: BatchRunOptions;
  readonly settings: Settings;
  readonly format: ReturnType<typeof inputFormatOf>;
  readonly files: ReturnType<typeof runFiles>;
  readonly fingerprint: RunFingerprint;
  readonly inputState: FileState;
  readonly checkpoint: Checkpoint | undefined;
  readonly resolved: ResolvedVersion;
  readonly fitted: FittedFeatureSet;
  readonly model: LoadedModel;
  readonly io: TabularScorer;
  readonly source: VectorSource;
  readonly sink: RecordSink | undefined;
  readonly plan: ReturnType<typeof createRowPlan>;
  readonly durations: { readonly resolveMs: number; readonly loadMs: number };
  readonly started: number;
}

/** One attempt of a run, from its checkpoint (or the start) to the end of the input. */
class Run {
  readonly #c: RunContext;
  readonly #runId: string;
  readonly #predictionTime: string;
  readonly #startedAt: string;
  readonly #resumedFromRow: number;
  /** 0 for a run's first attempt, 1 for its first resume... */
  readonly #attempt: number;
  readonly #warnings: string[] = [];
  #rowsRead: number;
  #rowsScored: number;
  #rowsRejected: number;
  #recordsSampled: number;
  #featuresMs = 0;
  #inferenceMs = 0;
  #writeMs = 0;
  #scoringStarted = 0;
  #output: FileHandle | undefined;
  #rejects: FileHandle | undefined;
  #outputHash: Hash = createHash('sha256');
  #rejectsHash: Hash = createHash('sha256');
  #outputBytes = 0;
  #rejectBytes = 0;
  #reader: InputReader | undefined;

  constructor(context: RunContext) {
    this.#c = context;
    const cp = context.checkpoint;
    const { resolved } = context;
    const now = new Date();
    this.#predictionTime = cp?.predictionTime ?? (context.options.predictionTime ?? now).toISOString();
    this.#startedAt = cp?.startedAt ?? now.toISOString();
    this.#runId =
      cp?.runId ??
      runIdOf({
        deployment: resolved.deployment,
        model: resolved.model,
        version: resolved.version,
        featureSetHash: resolved.featureSet.contentHash,
        inputSha256: context.inputState.sha256,
        asOf: context.options.asOf?.toISOString() ?? null,
        predictionTime: this.#predictionTime,
        entityColumns: context.fingerprint['entityColumns'] ?? null,
        idColumn: context.fingerprint['idColumn'] ?? null,
      });
    this.#resumedFromRow = cp?.rowsRead ?? 0;
    this.#attempt = cp ? cp.attempt + 1 : 0;
    this.#rowsRead = cp?.rowsRead ?? 0;
    this.#rowsScored = cp?.rowsScored ?? 0;
    this.#rowsRejected = cp?.rowsRejected ?? 0;
    this.#recordsSampled = cp?.recordsSampled ?? 0;
  }

  async execute(): Promise<RunManifest> {
    const { settings, checkpoint, files } = this.#c;
    try {
      await this.#openFiles();
      if (checkpoint) {
        this.#notice(
          `resuming run ${this.#runId} at row ${checkpoint.rowsRead + 1} from checkpoint ${files.checkpoint}`,
        );
      }
      this.#scoringStarted = performance.now();
      this.#reader = openInput(settings.input, this.#c.format);
      const interrupted = await this.#pipeline();
      await this.#syncFiles();
      if (interrupted) {
        await this.#writeCheckpoint();
        return await this.#finish(
          'interrupted',
          `interrupted after row ${this.#rowsRead}; run the same command again to resume from there`,
        );
      }
      const read = this.#rowsRead;
      const fraction = read === 0 ? 0 : this.#rowsRejected / read;
      const overBudget = fraction > settings.errorBudget;
      const manifest = await this.#finish(
        overBudget ? 'failed' : 'succeeded',
        overBudget
          ? `${this.#rowsRejected} of ${read} rows rejected (${formatPercent(fraction)}), over the error budget of ${formatPercent(settings.errorBudget)} (--error-budget ${settings.errorBudget}); see ${settings.rejects}`
          : undefined,
      );
      await rm(files.checkpoint, { force: true });
      return manifest;
    } catch (error) {
      await this.#closeFiles().catch(() => undefined);
      await this.#finish('failed', failureMessage(error)).catch(() => undefined);
      throw error;
    } finally {
      this.#reader?.close();
      await this.#closeFiles();
    }
  }

  #notice(message: string): void {
    this.#c.options.onNotice?.(message);
  }

  async #openFiles(): Promise<void> {
    const { settings, checkpoint } = this.#c;
    await mkdir(path.dirname(settings.output), { recursive: true });
    await mkdir(path.dirname(settings.rejects), { recursive: true });
    if (checkpoint) {
      this.#outputHash = await resumeFile(settings.output, checkpoint.output, 'output');
      this.#rejectsHash = await resumeFile(settings.rejects, checkpoint.rejects, 'reject file');
      this.#outputBytes = checkpoint.output.bytes;
      this.#rejectBytes = checkpoint.rejects.bytes;
      this.#output = await open(settings.output, 'a');
      this.#rejects = await open(settings.rejects, 'a');
      return;
    }
    this.#output = await open(settings.output, 'w');
    this.#rejects = await open(settings.rejects, 'w');
    await this.#append(Buffer.from(outputHeader(this.#c.io.scoresPerRow)), Buffer.alloc(0));
  }

  async #syncFiles(): Promise<void> {
    await this.#output?.datasync();
    await this.#rejects?.datasync();
  }

  async #closeFiles(): Promise<void> {
    const handles = [this.#output, this.#rejects];
    this.#output = undefined;
    this.#rejects = undefined;
    for (const handle of handles) await handle?.close();
  }

  /** Reads, scores and writes every chunk; true when stopped by the signal. */
  async #pipeline(): Promise<boolean> {
    const { options } = this.#c;
    let header = this.#checkpointRowAfter(this.#rowsRead);
    const pending: Promise<ScoredChunk>[] = [];
    let interrupted = false;
    for await (const chunk of this.#chunks()) {
      const scored = this.#score(chunk);
      // Awaited below in order; a failure here must not surface as unhandled meanwhile.
      scored.catch(() => undefined);
      pending.push(scored);
      if (pending.length >= PIPELINE_DEPTH) header = await this.#write(await pending.shift()!, header);
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
    }
    while (pending.length > 0) header = await this.#write(await pending.shift()!, header);
    return interrupted;
  }

  #checkpointRowAfter(row: number): number {
    const every = this.#c.settings.checkpointEvery;
    return (Math.floor(row / every) + 1) * every;
  }

  async *#chunks(): AsyncGenerator<Chunk> {
    const { settings, format } = this.#c;
    const reader = this.#reader!;
    const size = settings.batchSize;
    let items: InputItem[] = [];
    let checked = format !== 'csv';
    for await (const item of reader) {
      if (!checked) {
        checked = true;
        this.#checkHeader(reader.columns() ?? []);
      }
      // Rows before the checkpoint are read again (the input is a stream) but not scored.
      if (item.row <= this.#resumedFromRow) continue;
      items.push(item);
      if (item.row % size === 0) {
        yield { last: item.row, items };
        items = [];
      }
    }
    if (!checked) {
      const columns = reader.columns();
      if (columns === undefined)
        throw new InvalidArgumentError(`input "${settings.input}" is empty: it has no header line`);
      this.#checkHeader(columns);
    }
    if (items.length > 0) yield { last: items.at(-1)!.row, items };
  }

  #checkHeader(columns: readonly string[]): void {
    const { error, warnings } = checkColumns(this.#c.plan, columns, this.#c.settings.input);
    if (error) throw new InvalidArgumentError(error);
    for (const warning of warnings) {
      this.#warnings.push(warning);
      this.#notice(`warning: ${warning}`);
    }
  }

  async #score(chunk: Chunk): Promise<ScoredChunk> {
    const { plan, source, io, resolved, settings, sink } = this.#c;
    const rows: ScoringRow[] = [];
    const rejected: RejectedRow[] = [];
    for (const item of chunk.items) {
      const built = buildRow(plan, item);
      if (isScoring(built)) rows.push(built);
      else rejected.push(built);
    }
    let featuresMs = 0;
    let inferenceMs = 0;
    let lines = '';
    const records: monitor.PredictionRecord[] = [];
    if (rows.length > 0) {
      const t0 = performance.now();
      const matrix = await source.vectors(rows);
      const t1 = performance.now();
      const scores = await io.score(matrix, rows.length);
      const t2 = performance.now();
      featuresMs = t1 - t0;
      inferenceMs = t2 - t1;
      const perRow = io.scoresPerRow;
      const width = matrix.length / rows.length;
      const latencyMs = (t2 - t0) / rows.length;
      const model_ = `,${csvField(resolved.model)},${resolved.version},`;
      const time = this.#predictionTime;
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        const requestId = requestIdOf(this.#runId, row.row);
        let values = '';
        const outputs: number[] = [];
        for (let k = 0; k < perRow; k++) {
          const value = scores[r * perRow + k]!;
          values += `${formatScore(value, io.float32)},`;
          outputs.push(value);
        }
        lines += `${csvField(row.id)},${requestId}${model_}${values}${time}\n`;
        if (sink && isSampled(requestId, settings.recordSample)) {
          records.push({
            requestId,
            deployment: resolved.deployment,
            variant: resolved.variant,
            model: resolved.model,
            version: resolved.version,
            features: Array.from(matrix.subarray(r * width, (r + 1) * width)),
            outputs,
            // The chunk's time per row: what one prediction cost in this batch.
            latencyMs,
            status: 'OK',
            time: new Date(time),
            experimentArm: '',
            unitKey: '',
            source: 'batch',
            shadow: false,
            featureSetHash: resolved.featureSet.contentHash,
            entityKeys: row.entityKeys,
            error: '',
            experiment: '',
          });
        }
      }
    }
    let rejectLines = '';
    for (const reject of rejected) rejectLines += `${JSON.stringify(reject)}\n`;
    return {
      last: chunk.last,
      rows: chunk.items.length,
      scored: rows.length,
      rejected: rejected.length,
      output: Buffer.from(lines, 'utf8'),
      rejects: Buffer.from(rejectLines, 'utf8'),
      records,
      featuresMs,
      inferenceMs,
    };
  }

  async #append(output: Buffer, rejects: Buffer): Promise<void> {
    if (output.length > 0) {
      await writeAll(this.#output!, output);
      this.#outputHash.update(output);
      this.#outputBytes += output.length;
    }
    if (rejects.length > 0) {
      await writeAll(this.#rejects!, rejects);
      this.#rejectsHash.update(rejects);
      this.#rejectBytes += rejects.length;
    }
  }

  /** Appends a scored chunk; writes a checkpoint when it crosses `nextCheckpoint`. Returns the next one. */
  async #write(chunk: ScoredChunk, nextCheckpoint: number): Promise<number> {
    const t0 = performance.now();
    await this.#append(chunk.output, chunk.rejects);
    this.#rowsRead = chunk.last;
    this.#rowsScored += chunk.scored;
    this.#rowsRejected += chunk.rejected;
    this.#featuresMs += chunk.featuresMs;
    this.#inferenceMs += chunk.inferenceMs;
    for (const record of chunk.records) this.#c.sink?.record(record);
    this.#recordsSampled += chunk.records.length;
    let next = nextCheckpoint;
    if (chunk.last >= nextCheckpoint) {
      await this.#syncFiles();
      await this.#writeCheckpoint();
      next = this.#checkpointRowAfter(chunk.last);
    }
    this.#writeMs += performance.now() - t0;
    this.#c.options.onProgress?.({
      rowsRead: this.#rowsRead,
      rowsScored: this.#rowsScored,
      rowsRejected: this.#rowsRejected,
      rowsThisAttempt: this.#rowsRead - this.#resumedFromRow,
      bytesRead: this.#reader?.bytesRead() ?? 0,
      totalBytes: this.#c.inputState.bytes,
      elapsedMs: performance.now() - this.#scoringStarted,
      resumedFromRow: this.#resumedFromRow,
    });
    return next;
  }

  #durations(): Durations {
    const before = this.#c.checkpoint?.durations;
    const add = (key: keyof Durations, value: number): number => Math.round((before?.[key] ?? 0) + value);
    return {
      resolveMs: add('resolveMs', this.#c.durations.resolveMs),
      loadMs: add('loadMs', this.#c.durations.loadMs),
      featuresMs: add('featuresMs', this.#featuresMs),
      inferenceMs: add('inferenceMs', this.#inferenceMs),
      writeMs: add('writeMs', this.#writeMs),
      totalMs: add('totalMs', performance.now() - this.#c.started),
    };
  }

  async #writeCheckpoint(): Promise<void> {
    const { resolved, fingerprint, files } = this.#c;
    const value: Checkpoint = {
      format: CHECKPOINT_FORMAT,
      fingerprint,
      runId: this.#runId,
      predictionTime: this.#predictionTime,
      startedAt: this.#startedAt,
      variant: resolved.variant,
      model: resolved.model,
      version: resolved.version,
      artifactSha256: resolved.artifactSha256,
      featureSetHash: resolved.featureSet.contentHash,
      rowsRead: this.#rowsRead,
      rowsScored: this.#rowsScored,
      rowsRejected: this.#rowsRejected,
      recordsSampled: this.#recordsSampled,
      output: { bytes: this.#outputBytes, sha256: this.#outputHash.copy().digest('hex') },
      rejects: { bytes: this.#rejectBytes, sha256: this.#rejectsHash.copy().digest('hex') },
      // Durations so far of this attempt are counted once the run ends; a checkpoint carries
      // those of the attempts before it, plus this one's up to here.
      durations: this.#durations(),
      attempt: this.#attempt,
      updatedAt: new Date().toISOString(),
    };
    await writeAtomically(files.checkpoint, `${JSON.stringify(value, null, 2)}\n`);
  }

  async #finish(status: RunStatus, error?: string): Promise<RunManifest> {
    const { resolved, settings, files, options, inputState, format } = this.#c;
    const manifest: RunManifest = {
      format: MANIFEST_FORMAT,
      status,
      ...(error === undefined ? {} : { error }),
      runId: this.#runId,
      deployment: resolved.deployment,
      variant: resolved.variant,
      model: resolved.model,
      version: resolved.version,
      artifactSha256: resolved.artifactSha256,
      featureSet: resolved.featureSet,
      ...(options.asOf ? { asOf: options.asOf.toISOString() } : {}),
      predictionTime: this.#predictionTime,
      input: { path: settings.input, format, ...inputState },
      output: {
        path: settings.output,
        bytes: this.#outputBytes,
        sha256: this.#outputHash.copy().digest('hex'),
      },
      rejects: {
        path: settings.rejects,
        bytes: this.#rejectBytes,
        sha256: this.#rejectsHash.copy().digest('hex'),
      },
      rows: { read: this.#rowsRead, scored: this.#rowsScored, rejected: this.#rowsRejected },
      errorBudget: settings.errorBudget,
      startedAt: this.#startedAt,
      finishedAt: new Date().toISOString(),
      durations: this.#durations(),
      resumes: this.#attempt,
      resumedFromRow: this.#resumedFromRow,
      recordsSampled: this.#recordsSampled,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      warnings: this.#warnings,
    };
    await writeAtomically(files.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  }
}

function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(3))}%`;
}
