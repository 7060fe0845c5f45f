import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { registry } from '@slipway/contracts';
import { FailedPreconditionError } from '@slipway/errors';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { createArtifactCache, type ArtifactRef } from './artifact-cache.js';

// The registry's DownloadArtifact stream, as data: a header, then chunks. The gRPC path itself is
// covered by the registry-driven process test.
function served(
  bytes: Uint8Array,
  chunk = 7,
): () => AsyncIterable<registry.DownloadArtifactResponse> & {
  calls: number;
} {
  const source = Object.assign(
    async function* () {
      source.calls++;
      yield {
        part: { $case: 'header' as const, header: { sha256: sha256(original), size: BigInt(bytes.length) } },
      };
      for (let i = 0; i < bytes.length; i += chunk) {
        yield { part: { $case: 'chunk' as const, chunk: bytes.subarray(i, i + chunk) } };
      }
    },
    { calls: 0 },
  );
  return source as never;
}

const original = new TextEncoder().encode('pretend this is an onnx model, 42 bytes..');
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const ref: ArtifactRef = { model: 'm', version: 2, sha256: sha256(original), size: original.length };

describe('artifact cache', () => {
  it('downloads, verifies and stores an artifact under its sha256, then reuses it', async () => {
    const dataDir = (await createTempDir('worker-cache-')).path;
    const download = served(original);
    const cache = createArtifactCache({ dir: path.join(dataDir, 'artifacts'), download: download as never });
    const file = await cache.fetch(ref);
    expect(file).toBe(path.join(dataDir, 'artifacts', ref.sha256));
    expect(await readFile(file)).toEqual(Buffer.from(original));
    expect(await cache.fetch(ref)).toBe(file);
    expect((download as unknown as { calls: number }).calls).toBe(1);
    expect(await readdir(path.join(dataDir, 'artifacts', 'tmp'))).toEqual([]);
  });

  it('refuses bytes that do not hash to the recorded sha256 and keeps nothing', async () => {
    const dataDir = (await createTempDir('worker-cache-')).path;
    const corrupt = Uint8Array.from(original);
    corrupt[3] ^= 0xff;
    const cache = createArtifactCache({
      dir: path.join(dataDir, 'artifacts'),
      download: served(corrupt) as never,
    });
    const attempt = cache.fetch(ref);
    await expect(attempt).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(attempt).rejects.toThrow(
      `artifact of model "m" version 2 failed verification: sha256 mismatch, the downloaded ${original.length} bytes hash to ${sha256(corrupt)} but the registry records ${ref.sha256}`,
    );
    expect(existsSync(path.join(dataDir, 'artifacts', ref.sha256))).toBe(false);
    expect(await readdir(path.join(dataDir, 'artifacts', 'tmp'))).toEqual([]);
  });

  it('replaces a cached file damaged on disk', async () => {
    const dataDir = (await createTempDir('worker-cache-')).path;
    const download = served(original);
    const cache = createArtifactCache({ dir: path.join(dataDir, 'artifacts'), download: download as never });
    const file = await cache.fetch(ref);
    await writeFile(file, 'damaged');
    expect(await readFile(await cache.fetch(ref))).toEqual(Buffer.from(original));
    expect((download as unknown as { calls: number }).calls).toBe(2);
  });
});
