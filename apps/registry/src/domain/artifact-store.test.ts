import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDir, sha256Hex } from '../testing/fixtures.js';
import { createArtifactStore, type ArtifactStore } from './artifact-store.js';
import { InvalidArgumentError, NotFoundError } from '@slipway/errors';

describe('artifact store', () => {
  let temp: ReturnType<typeof createTempDir>;
  let store: ArtifactStore;
  const tmpFiles = () => readdirSync(join(temp.dir, 'artifacts', 'tmp'));
  const bytes = Buffer.from('0123456789abcdef'.repeat(1000));
  const sha = sha256Hex(bytes);

  beforeEach(() => {
    temp = createTempDir();
    store = createArtifactStore({ dataDir: temp.dir });
  });
  afterEach(() => temp.cleanup());

  it('stores content under sha256/<2 hex>/<64 hex> and reads it back', async () => {
    const writer = await store.beginUpload({ expectedSha256: sha, expectedSize: BigInt(bytes.length) });
    for (let i = 0; i < bytes.length; i += 1000) await writer.write(bytes.subarray(i, i + 1000));
    const committed = await writer.commit();

    expect(committed).toEqual({
      sha256: sha,
      size: bytes.length,
      path: join(temp.dir, 'artifacts', 'sha256', sha.slice(0, 2), sha),
      deduplicated: false,
    });
    expect(readFileSync(committed.path)).toEqual(bytes);
    expect(statSync(committed.path).mode & 0o222).toBe(0);
    expect(store.has(sha)).toBe(true);
    expect(store.sizeOf(sha)).toBe(bytes.length);
    expect(await store.readBytes(sha)).toEqual(bytes);
    const { stream, size } = store.openRead(sha.toUpperCase());
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(size).toBe(bytes.length);
    expect(Buffer.concat(chunks)).toEqual(bytes);
    expect(tmpFiles()).toEqual([]);
  });

  it('keeps chunk order when writes are not awaited', async () => {
    const writer = await store.beginUpload({ expectedSha256: sha, expectedSize: bytes.length });
    const pending: Promise<void>[] = [];
    for (let i = 0; i < bytes.length; i += 100) pending.push(writer.write(bytes.subarray(i, i + 100)));
    await Promise.all(pending);
    await writer.commit();
    expect(await store.readBytes(sha)).toEqual(bytes);
  });

  it('discards a second upload of content it already holds', async () => {
    for (const expected of [false, true]) {
      const writer = await store.beginUpload({ expectedSha256: sha, expectedSize: bytes.length });
      await writer.write(bytes);
      expect((await writer.commit()).deduplicated).toBe(expected);
    }
    expect(tmpFiles()).toEqual([]);
  });

  it('rejects more bytes than declared and leaves no file', async () => {
    const writer = await store.beginUpload({ expectedSha256: sha, expectedSize: 10 });
    await writer.write(bytes.subarray(0, 8));
    const error = await writer.write(bytes.subarray(8, 16)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toContain('declared 10 bytes, received at least 16');
    await expect(writer.commit()).rejects.toThrow(/already aborted/);
    expect(store.has(sha)).toBe(false);
    expect(tmpFiles()).toEqual([]);
  });

  it('rejects a short upload, naming declared and actual size, and leaves no file', async () => {
    const writer = await store.beginUpload({ expectedSha256: sha, expectedSize: bytes.length });
    await writer.write(bytes.subarray(0, 100));
    await expect(writer.commit()).rejects.toThrow(
      new InvalidArgumentError(
        `artifact sha256:${sha} is incomplete: declared ${bytes.length} bytes, received 100 (send the whole file)`,
      ),
    );
    expect(store.has(sha)).toBe(false);
    expect(tmpFiles()).toEqual([]);
  });

  it('rejects content whose sha256 differs from the declared one and leaves no file', async () => {
    const other = Buffer.from(bytes);
    other[0] = 0x58;
    const writer = await store.beginUpload({ expectedSha256: sha, expectedSize: other.length });
    await writer.write(other);
    const error = await writer.commit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toBe(
      `artifact content does not match its declared sha256: declared ${sha}, actual ${sha256Hex(other)} (re-hash the file you are uploading)`,
    );
    expect(store.has(sha)).toBe(false);
    expect(store.has(sha256Hex(other))).toBe(false);
    expect(readdirSync(join(temp.dir, 'artifacts', 'sha256'))).toEqual([]);
    expect(tmpFiles()).toEqual([]);
  });

  it('abort() removes the temporary file and is idempotent', async () => {
    const writer = await store.beginUpload({ expectedSha256: sha, expectedSize: bytes.length });
    await writer.write(bytes.subarray(0, 10));
    expect(tmpFiles()).toHaveLength(1);
    await writer.abort();
    await writer.abort();
    expect(tmpFiles()).toEqual([]);
    expect(store.has(sha)).toBe(false);
  });

  it('sweeps temporary files left by an earlier process at start', async () => {
    await store.beginUpload({ expectedSha256: sha, expectedSize: bytes.length });
    writeFileSync(join(temp.dir, 'artifacts', 'tmp', 'stale.part'), 'x');
    expect(tmpFiles()).toHaveLength(2);
    createArtifactStore({ dataDir: temp.dir });
    expect(tmpFiles()).toEqual([]);
  });

  it('validates declarations and reports missing artifacts', async () => {
    await expect(store.beginUpload({ expectedSha256: 'abc', expectedSize: 1 })).rejects.toThrow(
      new InvalidArgumentError('"abc" is not a sha256 digest (expected 64 hex characters)'),
    );
    await expect(store.beginUpload({ expectedSha256: sha, expectedSize: -1 })).rejects.toThrow(
      InvalidArgumentError,
    );
    expect(() => store.openRead(sha)).toThrow(
      new NotFoundError(`artifact sha256:${sha} is not in the store (upload it first)`),
    );
    await expect(store.readBytes(sha)).rejects.toThrow(NotFoundError);
    expect(store.has('not-a-sha')).toBe(false);
  });
});
