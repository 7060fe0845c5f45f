import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@slipway/errors';

/** Format tag of a checkpoint file. */
export const CHECKPOINT_FORMAT = 'slipway.batch.checkpoint/v1';

/** What identifies a run's arguments: a checkpoint only resumes the run it was written by. */
export type RunFingerprint = Readonly<Record<string, string | number | null>>;

/** An appended file's length and the sha256 of its bytes, at a checkpoint. */
export interface FileState {
  readonly bytes: number;
  readonly sha256: string;
}

/** Time spent, in milliseconds, summed over every attempt of a run. */
export interface Durations {
  readonly resolveMs: number;
  readonly loadMs: number;
  readonly featuresMs: number;
  readonly inferenceMs: number;
  readonly writeMs: number;
  readonly totalMs: number;
}

/**
 * A run's progress, written atomically (temporary file, fsync, rename) every N rows, after the
 * output and reject files have been synced up to the lengths it records.
 */
export interface Checkpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly fingerprint: RunFingerprint;
  readonly runId: string;
  readonly predictionTime: string;
  readonly startedAt: string;
  readonly variant: string;
  readonly model: string;
  readonly version: number;
  readonly artifactSha256: string;
  readonly featureSetHash: string;
  /** Input rows done (scored or rejected); the run continues at row `rowsRead + 1`. */
  readonly rowsRead: number;
  readonly rowsScored: number;
  readonly rowsRejected: number;
  readonly recordsSampled: number;
  readonly output: FileState;
  readonly rejects: FileState;
  readonly durations: Durations;
  /** Which attempt of the run wrote it: 0 for the first, 1 after one resume... */
  readonly attempt: number;
  readonly updatedAt: string;
}

/** The hex sha256 and size of a whole file; NotFoundError when it does not exist. */
export async function hashWholeFile(file: string, what: string): Promise<FileState> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new NotFoundError(`${what} "${file}" does not exist`);
    throw error;
  });
  if (!info.isFile()) throw new InvalidArgumentError(`${what} "${file}" is not a file`);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return { bytes: info.size, sha256: hash.digest('hex') };
}

/** Writes `text` to `file` atomically: a temporary file next to it, fsynced, then renamed over it. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const handle = await open(temporary, 'w');
  try {
    await writeAll(handle, Buffer.from(text, 'utf8'));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file).catch(async (error: unknown) => {
    await rm(temporary, { force: true });
    throw error;
  });
}

/** Writes all of `bytes` at the handle's position. */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

/** The checkpoint at `file`, or undefined when there is none. */
export async function readCheckpoint(file: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: Partial<Checkpoint>;
  try {
    value = JSON.parse(text) as Partial<Checkpoint>;
  } catch (error) {
    throw new FailedPreconditionError(
      `checkpoint "${file}" is not valid JSON; delete it to start the run over`,
      { cause: error },
    );
  }
  if (value.format !== CHECKPOINT_FORMAT) {
    throw new FailedPreconditionError(
      `"${file}" is not a ${CHECKPOINT_FORMAT} checkpoint; delete it to start the run over`,
    );
  }
  return value as Checkpoint;
}

/**
 * The first argument that differs between a checkpoint's run and this one, as
 * `--input sha256 was …, now …`; undefined when they are the same run.
 */
export function fingerprintDifference(was: RunFingerprint, now: RunFingerprint): string | undefined {
  for (const key of new Set([...Object.keys(was), ...Object.keys(now)])) {
    const a = was[key] ?? null;
    const b = now[key] ?? null;
    if (a !== b) return `${key} was ${JSON.stringify(a)}, now ${JSON.stringify(b)}`;
  }
  return undefined;
}

/**
 * Reopens an appended file at a checkpoint: checks that its first `state.bytes` bytes still hash
 * to `state.sha256`, cuts off whatever was written after the checkpoint, and returns the hash
 * primed with the kept bytes, to continue from.
 *
 * @throws FailedPreconditionError when the file is shorter or its kept bytes changed.
 */
export async function resumeFile(file: string, state: FileState, what: string): Promise<Hash> {
  const size = (await stat(file).catch(() => undefined))?.size ?? -1;
  const advice = 'delete the checkpoint to start the run over';
  if (size < state.bytes) {
    throw new FailedPreconditionError(
      `${what} "${file}" has ${size < 0 ? 'gone' : `${size} bytes`} but the checkpoint recorded ${state.bytes}; ${advice}`,
    );
  }
  const hash = createHash('sha256');
  if (state.bytes > 0) {
    for await (const chunk of createReadStream(file, {
      start: 0,
      end: state.bytes - 1,
      highWaterMark: 1 << 20,
    }))
      hash.update(chunk as Buffer);
  }
  if (hash.copy().digest('hex') !== state.sha256) {
    throw new FailedPreconditionError(
      `${what} "${file}" was changed after the checkpoint (its first ${state.bytes} bytes no longer match); ${advice}`,
    );
  }
  if (size > state.bytes) await truncate(file, state.bytes);
  return hash;
}
