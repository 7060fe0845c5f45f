import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onTestFinished, TestRunner } from 'vitest';

/** A temporary directory owned by one test. */
export interface TempDir {
  readonly path: string;
  /** Removes the directory and everything in it. Idempotent. */
  cleanup(): Promise<void>;
}

/**
 * Creates a fresh directory under the OS temp dir. Called inside a test, it is removed when the
 * test finishes; otherwise call `cleanup()` (e.g. in `afterAll`).
 * @param prefix readable start of the directory name, e.g. `registry-db-`.
 */
export async function createTempDir(prefix = 'slipway-test-'): Promise<TempDir> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  let removed: Promise<void> | undefined;
  const tempDir: TempDir = {
    path: dir,
    cleanup() {
      removed ??= rm(dir, { recursive: true, force: true, maxRetries: 3 });
      return removed;
    },
  };
  if (TestRunner.getCurrentTest()) onTestFinished(() => tempDir.cleanup());
  return tempDir;
}

/**
 * The same as a vitest fixture:
 * `const test = base.extend<{ tmp: string }>({ tmp: tempDirFixture('features-') })`.
 */
export function tempDirFixture(prefix?: string) {
  // vitest reads the first parameter's destructuring pattern to learn fixture dependencies.
  return async ({}: object, use: (dir: string) => Promise<void>): Promise<void> => {
    const dir = await mkdtemp(path.join(tmpdir(), prefix ?? 'slipway-test-'));
    try {
      await use(dir);
    } finally {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    }
  };
}
