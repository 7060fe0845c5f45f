import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { monitor } from '@slipway/contracts';

/**
 * Spool file layout: the 8-byte magic, then `IngestPredictionsRequest` messages, each preceded by
 * its length as a little-endian uint32. One file holds one IngestPredictions call's worth of
 * records, so a replay is one call.
 */
const MAGIC = Buffer.from('SLWSPL01', 'latin1');
const SUFFIX = '.spool';
const TEMP_SUFFIX = '.tmp';
/** A temporary file this old at start was left by a crashed writer, not one writing now. */
const STALE_TEMP_MS = 60_000;

/** A spool file that is complete (renamed into place). */
export interface SpoolFile {
  readonly name: string;
  readonly bytes: number;
}

/** A spool file that is not in the spool format (it is renamed to `*.corrupt` and skipped). */
export class CorruptSpoolFileError extends Error {
  constructor(file: string, reason: string) {
    super(`spool file ${file} is not a record spool (${reason})`);
    this.name = 'CorruptSpoolFileError';
  }
}

/** Encodes records as spool file content, `perMessage` records per message. */
export function encodeSpoolFile(records: readonly monitor.PredictionRecord[], perMessage: number): Buffer {
  const parts: Uint8Array[] = [MAGIC];
  for (let i = 0; i < records.length; i += perMessage) {
    const message = monitor.IngestPredictionsRequest.encode({
      records: records.slice(i, i + perMessage),
    }).finish();
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32LE(message.length, 0);
    parts.push(length, message);
  }
  return Buffer.concat(parts);
}

/** The messages of spool file content. @throws CorruptSpoolFileError */
export function decodeSpoolFile(content: Buffer, file = 'content'): monitor.IngestPredictionsRequest[] {
  if (content.length < MAGIC.length || !content.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CorruptSpoolFileError(file, 'missing header');
  }
  const messages: monitor.IngestPredictionsRequest[] = [];
  let at = MAGIC.length;
  while (at < content.length) {
    if (at + 4 > content.length) throw new CorruptSpoolFileError(file, `truncated at byte ${at}`);
    const length = content.readUInt32LE(at);
    at += 4;
    if (at + length > content.length) throw new CorruptSpoolFileError(file, `truncated at byte ${at}`);
    try {
      messages.push(monitor.IngestPredictionsRequest.decode(content.subarray(at, at + length)));
    } catch (err) {
      throw new CorruptSpoolFileError(file, `message at byte ${at}: ${(err as Error).message}`);
    }
    at += length;
  }
  return messages;
}

/**
 * A directory of spool files, oldest first. Files are written under a temporary name and renamed
 * once complete and fsynced, so a crash never leaves a half file under a spool name. Names sort
 * by age (`<ms>-<pid>-<seq>.spool`). The total size is bounded; a write past the bound is refused.
 *
 * One process should own a directory at a time: files another process writes later are not seen.
 */
export class Spool {
  readonly dir: string;
  readonly #maxBytes: number;
  readonly #files: SpoolFile[];
  #bytes: number;
  /** Bytes of writes in progress, counted against the bound before they land. */
  #reserved = 0;
  #seq = 0;
  #lastMs = 0;

  /**
   * Opens (creating) `dir` and lists the complete spool files in it, e.g. a previous process's.
   * Temporary files older than a minute (crashed writes) are removed.
   */
  constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.#maxBytes = maxBytes;
    mkdirSync(dir, { recursive: true });
    const files: SpoolFile[] = [];
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (name.endsWith(SUFFIX)) {
        files.push({ name, bytes: statSync(full).size });
      } else if (name.endsWith(TEMP_SUFFIX) && Date.now() - statSync(full).mtimeMs > STALE_TEMP_MS) {
        rmSync(full, { force: true });
      }
    }
    this.#files = files;
    this.#bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  }

  /** Bytes in complete spool files. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Complete spool files, oldest first. */
  get files(): readonly SpoolFile[] {
    return this.#files;
  }

  /**
   * Writes `records` as one spool file; resolves false, writing nothing, when the file would take
   * the spool past its bound. @throws the file system's error (nothing is left behind).
   */
  async write(records: readonly monitor.PredictionRecord[], perMessage: number): Promise<boolean> {
    const content = encodeSpoolFile(records, perMessage);
    if (this.#bytes + this.#reserved + content.length > this.#maxBytes) return false;
    this.#reserved += content.length;
    const name = this.#nextName();
    const temp = path.join(this.dir, `.${name}${TEMP_SUFFIX}`);
    try {
      const handle = await open(temp, 'w');
      try {
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path.join(this.dir, name));
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    } finally {
      this.#reserved -= content.length;
    }
    this.#files.push({ name, bytes: content.length });
    this.#bytes += content.length;
    return true;
  }

  /** The messages of `file`. @throws CorruptSpoolFileError, or the file system's error */
  async read(file: SpoolFile): Promise<monitor.IngestPredictionsRequest[]> {
    return decodeSpoolFile(await readFile(path.join(this.dir, file.name)), file.name);
  }

  /** Deletes `file` (its records were delivered). */
  async remove(file: SpoolFile): Promise<void> {
    await rm(path.join(this.dir, file.name), { force: true });
    this.#forget(file);
  }

  /** Renames `file` to `*.corrupt`, out of the spool, and returns the new name. */
  async quarantine(file: SpoolFile): Promise<string> {
    const target = `${file.name}.corrupt`;
    await rename(path.join(this.dir, file.name), path.join(this.dir, target)).catch(() => undefined);
    this.#forget(file);
    return target;
  }

  #forget(file: SpoolFile): void {
    const index = this.#files.indexOf(file);
    if (index < 0) return;
    this.#files.splice(index, 1);
    this.#bytes -= file.bytes;
  }

  #nextName(): string {
    // Never backwards, even if the clock is: names must keep sorting in write order.
    this.#lastMs = Math.max(this.#lastMs, Date.now());
    const seq = this.#seq++;
    return `${String(this.#lastMs).padStart(15, '0')}-${process.pid}-${String(seq).padStart(9, '0')}${SUFFIX}`;
  }
}
