import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { registry } from '@slipway/contracts';
import { FailedPreconditionError } from '@slipway/errors';

/** A model version's artifact as the registry records it. */
export interface ArtifactRef {
  readonly model: string;
  readonly version: number;
  readonly sha256: string;
  readonly size: number;
}

/** Streams an artifact (ModelService.DownloadArtifact): a header, then chunks. */
export type DownloadArtifact = (
  request: registry.DownloadArtifactRequest,
) => AsyncIterable<registry.DownloadArtifactResponse>;

const SHA256_HEX = /^[0-9a-f]{64}$/;

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The path of a verified local copy of `ref` under `dir` (content-addressed: `<dir>/<sha256>`):
 * a cached file whose size and sha256 match, or a fresh download written to a temporary file,
 * verified, then renamed into place, so a crash never leaves a wrong file under the name.
 *
 * @throws FailedPreconditionError when the registry's bytes do not match its own record.
 */
export async function fetchArtifact(
  ref: ArtifactRef,
  dir: string,
  download: DownloadArtifact,
): Promise<string> {
  const label = `artifact of model "${ref.model}" version ${ref.version}`;
  if (!SHA256_HEX.test(ref.sha256)) {
    throw new FailedPreconditionError(
      `${label}: the registry records sha256 "${ref.sha256}", not 64 hex digits`,
    );
  }
  const file = path.join(dir, ref.sha256);
  const cached = await stat(file).catch(() => undefined);
  if (cached?.size === ref.size && (await hashFile(file)) === ref.sha256) return file;
  // A cached file that does not match its name was damaged on disk: fetch it again.
  if (cached) await rm(file, { force: true });

  await mkdir(dir, { recursive: true });
  const part = path.join(dir, `${ref.sha256}.${randomBytes(4).toString('hex')}.part`);
  const handle = await open(part, 'w');
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const message of download({ model: ref.model, version: ref.version, sha256: '' })) {
      const piece = message.part;
      if (piece?.$case === 'header' && piece.header.sha256 !== ref.sha256) {
        throw new FailedPreconditionError(
          `${label}: the registry sent artifact ${piece.header.sha256} but the version records ${ref.sha256}`,
        );
      }
      if (piece?.$case === 'chunk') {
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
      `${label} failed verification: the downloaded ${size} bytes hash to ${sha256} but the registry records ${ref.sha256} (${ref.size} bytes); the registry's copy is corrupt or was replaced`,
    );
  }
  await rename(part, file);
  return file;
}
