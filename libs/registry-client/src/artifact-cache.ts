import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { registry } from '@slipway/contracts';
import { FailedPreconditionError } from '@slipway/errors';

/** The artifact of one model version, as the registry records it. */
export interface ArtifactRef {
  readonly model: string;
  readonly version: number;
  /** Hex sha256 the registry recorded when the version was registered. */
  readonly sha256: string;
  readonly size: number;
}

/** Streams an artifact: a header message (sha256, size), then chunks (ModelService.DownloadArtifact). */
export type DownloadArtifact = (
  request: registry.DownloadArtifactRequest,
) => AsyncIterable<registry.DownloadArtifactResponse>;

/** Verified, content-addressed local copies of model artifacts. */
export interface ArtifactCache {
  /**
   * The path of a verified local copy of `ref`: a cached file whose sha256 and size match, or a
   * fresh download written to a temporary file, verified, then renamed into place.
   *
   * @throws FailedPreconditionError when the downloaded bytes do not match the recorded sha256
   *   or size (nothing is cached then).
   */
  fetch(ref: ArtifactRef): Promise<string>;
}

/** Options of {@link createArtifactCache}. */
export interface ArtifactCacheOptions {
  /** Where artifacts live, as `<dir>/<sha256>` (downloads in progress in `<dir>/tmp`). */
  readonly dir: string;
  readonly download: DownloadArtifact;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Creates an {@link ArtifactCache}; concurrent fetches of one sha256 share one download. */
export function createArtifactCache(options: ArtifactCacheOptions): ArtifactCache {
  const root = options.dir;
  const tmp = path.join(root, 'tmp');
  const pending = new Map<string, Promise<string>>();

  const cached = async (ref: ArtifactRef, file: string): Promise<boolean> => {
    const info = await stat(file).catch(() => undefined);
    if (!info) return false;
    const actual = info.size === ref.size ? await hashFile(file) : undefined;
    if (actual?.sha256 === ref.sha256) return true;
    // A cached file that no longer matches its name was damaged on disk: fetch it again.
    await rm(file, { force: true });
    return false;
  };

  const download = async (ref: ArtifactRef, file: string): Promise<void> => {
    const label = `artifact of model "${ref.model}" version ${ref.version}`;
    await mkdir(tmp, { recursive: true });
    const part = path.join(tmp, `${ref.sha256}.${randomBytes(4).toString('hex')}.part`);
    const handle = await open(part, 'w');
    const hash = createHash('sha256');
    let size = 0;
    let header: registry.DownloadArtifactResponse_Header | undefined;
    try {
      for await (const message of options.download({ model: ref.model, version: ref.version, sha256: '' })) {
        const piece = message.part;
        if (piece?.$case === 'header') {
          header = piece.header;
          if (header.sha256 !== ref.sha256) {
            throw new FailedPreconditionError(
              `${label}: the registry sent artifact ${header.sha256} but the version records ${ref.sha256}`,
            );
          }
        } else if (piece?.$case === 'chunk') {
          hash.update(piece.chunk);
          size += piece.chunk.byteLength;
          await handle.write(piece.chunk);
        }
      }
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(part, { force: true });
      throw error;
    }
    await handle.close();
    const sha256 = hash.digest('hex');
    if (sha256 !== ref.sha256 || size !== ref.size) {
      await rm(part, { force: true });
      throw new FailedPreconditionError(
        `${label} failed verification: sha256 mismatch, the downloaded ${size} bytes hash to ${sha256} but the registry records ${ref.sha256} (${ref.size} bytes); the registry's copy is corrupt or was replaced`,
      );
    }
    await rename(part, file);
  };

  return {
    fetch(ref) {
      if (!SHA256_HEX.test(ref.sha256)) {
        return Promise.reject(
          new FailedPreconditionError(
            `model "${ref.model}" version ${ref.version} records sha256 "${ref.sha256}", which is not 64 hex digits`,
          ),
        );
      }
      const file = path.join(root, ref.sha256);
      let fetching = pending.get(ref.sha256);
      if (!fetching) {
        fetching = (async () => {
          if (!(await cached(ref, file))) await download(ref, file);
          return file;
        })().finally(() => pending.delete(ref.sha256));
        pending.set(ref.sha256, fetching);
      }
      return fetching;
    },
  };
}
