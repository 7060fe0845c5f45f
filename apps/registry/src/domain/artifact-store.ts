import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  type ReadStream,
} from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, NotFoundError } from '@slipway/errors';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Options of {@link createArtifactStore}. */
export interface ArtifactStoreOptions {
  /** The registry's data directory; artifacts live under `<dataDir>/artifacts/`. */
  dataDir: string;
}

/** What an upload declares before its first byte. */
export interface UploadDeclaration {
  /** Lowercase hex sha256 of the whole file (upper case is accepted and lowered). */
  expectedSha256: string;
  /** Exact size in bytes. */
  expectedSize: number | bigint;
}

/** A committed artifact. */
export interface CommittedArtifact {
  sha256: string;
  size: number;
  /** Final, content-addressed path. */
  path: string;
  /** True when the store already held this content and the upload was discarded. */
  deduplicated: boolean;
}

/**
 * One upload in progress. Writes are applied in call order even if the caller does not await
 * them. Any failure (too many bytes, mismatch, I/O error) removes the temporary file, so a failed
 * upload leaves nothing behind whether or not the caller calls `abort()`.
 */
export interface ArtifactWriter {
  /** Appends a chunk. Rejects with InvalidArgumentError once more bytes arrive than declared. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Checks size and sha256 against the declaration, makes the file durable and moves it into
   * place atomically. Rejects with InvalidArgumentError (declared vs actual) on a mismatch.
   */
  commit(): Promise<CommittedArtifact>;
  /** Discards the upload. Idempotent; a no-op after commit. */
  abort(): Promise<void>;
  /** Bytes accepted so far. */
  readonly bytesWritten: number;
}

/** A readable artifact. */
export interface ArtifactReadable {
  stream: ReadStream;
  size: number;
}

/** Content-addressed artifact storage on the local disk. */
export interface ArtifactStore {
  /** Starts an upload into a temporary file under `<dataDir>/artifacts/tmp/`. */
  beginUpload(declaration: UploadDeclaration): Promise<ArtifactWriter>;
  /** Opens an artifact for streaming. NotFoundError when the store does not hold it. */
  openRead(sha256: string): ArtifactReadable;
  /** Reads a whole artifact. NotFoundError when the store does not hold it. */
  readBytes(sha256: string): Promise<Buffer>;
  /** Whether the store holds the artifact. */
  has(sha256: string): boolean;
  /** Size in bytes of a stored artifact. NotFoundError when the store does not hold it. */
  sizeOf(sha256: string): number;
  /** The final path of an artifact (whether or not it exists). */
  pathFor(sha256: string): string;
  /** Removes leftover temporary files (done once at creation). Returns how many were removed. */
  sweepTemp(): number;
  /**
   * Deletes an artifact that no version references, e.g. a fresh upload whose file turned out not
   * to be an ONNX model. The caller guarantees it is unreferenced.
   */
  remove(sha256: string): Promise<void>;
}

/**
 * Creates the artifact store: `<dataDir>/artifacts/sha256/<first 2 hex>/<64 hex>`, with uploads
 * staged in `<dataDir>/artifacts/tmp/`. Leftover temporary files of an earlier process are
 * removed at creation, which assumes one registry process per data directory.
 */
export function createArtifactStore(options: ArtifactStoreOptions): ArtifactStore {
  const root = join(options.dataDir, 'artifacts');
  const tmpDir = join(root, 'tmp');
  const casDir = join(root, 'sha256');
  mkdirSync(tmpDir, { recursive: true });
  mkdirSync(casDir, { recursive: true });

  const pathFor = (sha256: string): string => {
    const hex = normalizeSha256(sha256);
    return join(casDir, hex.slice(0, 2), hex);
  };

  const requireArtifact = (sha256: string): { path: string; size: number } => {
    const path = pathFor(sha256);
    try {
      return { path, size: statSync(path).size };
    } catch (err) {
      if (isNotFound(err)) throw missing(sha256);
      throw err;
    }
  };

  const sweepTemp = (): number => {
    const names = readdirSync(tmpDir);
    for (const name of names) rmSync(join(tmpDir, name), { force: true, recursive: true });
    return names.length;
  };
  sweepTemp();

  return {
    async beginUpload(declaration) {
      const expectedSha256 = normalizeSha256(declaration.expectedSha256);
      const expectedSize = normalizeSize(declaration.expectedSize);
      const tmpPath = join(tmpDir, `${expectedSha256.slice(0, 16)}-${randomBytes(8).toString('hex')}.part`);
      const handle = await open(tmpPath, 'wx', 0o600);
      return new Upload({
        handle,
        tmpPath,
        expectedSha256,
        expectedSize,
        finalPath: pathFor(expectedSha256),
      });
    },
    openRead(sha256) {
      const { path, size } = requireArtifact(sha256);
      return { stream: createReadStream(path), size };
    },
    async readBytes(sha256) {
      const { path } = requireArtifact(sha256);
      return readFile(path);
    },
    has(sha256) {
      return SHA256_HEX.test(sha256.toLowerCase()) && existsSync(pathFor(sha256));
    },
    sizeOf(sha256) {
      return requireArtifact(sha256).size;
    },
    pathFor,
    sweepTemp,
    async remove(sha256) {
      await rm(pathFor(sha256), { force: true });
    },
  };
}

interface UploadInit {
  handle: FileHandle;
  tmpPath: string;
  finalPath: string;
  expectedSha256: string;
  expectedSize: number;
}

class Upload implements ArtifactWriter {
  #init: UploadInit;
  #hash = createHash('sha256');
  #written = 0;
  // Writes chain on this promise so they land in call order; it also carries the first failure.
  #tail: Promise<void> = Promise.resolve();
  #state: 'open' | 'committing' | 'committed' | 'aborted' = 'open';

  constructor(init: UploadInit) {
    this.#init = init;
  }

  get bytesWritten(): number {
    return this.#written;
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== 'open')
      return Promise.reject(
        new InvalidArgumentError(`upload of sha256:${this.#init.expectedSha256} is already ${this.#state}`),
      );
    const { expectedSize, expectedSha256 } = this.#init;
    if (this.#written + chunk.byteLength > expectedSize) {
      const received = this.#written + chunk.byteLength;
      const err = new InvalidArgumentError(
        `artifact sha256:${expectedSha256} is larger than declared: declared ${expectedSize} bytes, received at least ${received} (declare the real size)`,
      );
      return this.#fail(err);
    }
    this.#written += chunk.byteLength;
    this.#hash.update(chunk);
    // Copy: the caller may reuse its buffer before the queued write runs.
    const copy = Buffer.from(chunk);
    this.#tail = this.#tail.then(async () => {
      await this.#init.handle.write(copy);
    });
    return this.#tail.catch((err: unknown) => this.#fail(err));
  }

  async commit(): Promise<CommittedArtifact> {
    if (this.#state !== 'open')
      throw new InvalidArgumentError(
        `upload of sha256:${this.#init.expectedSha256} is already ${this.#state}`,
      );
    this.#state = 'committing';
    const { handle, tmpPath, finalPath, expectedSha256, expectedSize } = this.#init;
    try {
      await this.#tail;
      if (this.#written !== expectedSize) {
        throw new InvalidArgumentError(
          `artifact sha256:${expectedSha256} is incomplete: declared ${expectedSize} bytes, received ${this.#written} (send the whole file)`,
        );
      }
      const actual = this.#hash.digest('hex');
      if (actual !== expectedSha256) {
        throw new InvalidArgumentError(
          `artifact content does not match its declared sha256: declared ${expectedSha256}, actual ${actual} (re-hash the file you are uploading)`,
        );
      }
      await handle.sync();
      await handle.close();
      if (await exists(finalPath)) {
        await rm(tmpPath, { force: true });
      } else {
        const shardDir = join(finalPath, '..');
        const createdShard = !(await exists(shardDir));
        await mkdir(shardDir, { recursive: true });
        await chmod(tmpPath, 0o444);
        await rename(tmpPath, finalPath);
        await fsyncDir(shardDir);
        if (createdShard) await fsyncDir(join(shardDir, '..'));
        this.#state = 'committed';
        return { sha256: expectedSha256, size: expectedSize, path: finalPath, deduplicated: false };
      }
      this.#state = 'committed';
      return { sha256: expectedSha256, size: expectedSize, path: finalPath, deduplicated: true };
    } catch (err) {
      await this.#discard();
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (this.#state === 'committed' || this.#state === 'aborted') return;
    await this.#tail.catch(() => undefined);
    await this.#discard();
  }

  async #fail(err: unknown): Promise<never> {
    await this.#discard();
    throw err;
  }

  async #discard(): Promise<void> {
    if (this.#state === 'aborted' || this.#state === 'committed') return;
    this.#state = 'aborted';
    await this.#tail.catch(() => undefined);
    await this.#init.handle.close().catch(() => undefined);
    await rm(this.#init.tmpPath, { force: true });
  }
}

/** Validates and lower-cases a sha256 hex digest. */
export function normalizeSha256(sha256: string): string {
  const hex = sha256.trim().toLowerCase();
  if (!SHA256_HEX.test(hex)) {
    throw new InvalidArgumentError(`"${sha256}" is not a sha256 digest (expected 64 hex characters)`);
  }
  return hex;
}

function normalizeSize(size: number | bigint): number {
  const n = typeof size === 'bigint' ? Number(size) : size;
  if (!Number.isSafeInteger(n) || n < 0 || (typeof size === 'bigint' && BigInt(n) !== size)) {
    throw new InvalidArgumentError(
      `artifact size ${String(size)} is not a valid byte count (expected a non-negative integer)`,
    );
  }
  return n;
}

function missing(sha256: string): NotFoundError {
  return new NotFoundError(`artifact sha256:${sha256} is not in the store (upload it first)`);
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

// A rename is durable only once the directory holding the new entry is synced.
async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
