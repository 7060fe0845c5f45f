import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The monorepo root (this file is libs/testing/{src,dist}/build.*). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (/\.(ts|mts|cts|json)$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) {
      newest = Math.max(newest, statSync(full).mtimeMs);
    }
  }
  return newest;
}

function isStale(projectDir: string, seen = new Set<string>()): boolean {
  if (seen.has(projectDir)) return false;
  seen.add(projectDir);
  const tsconfigPath = path.join(projectDir, 'tsconfig.json');
  const tsconfig = JSON.parse(readFileSync(tsconfigPath, 'utf8')) as {
    compilerOptions?: { tsBuildInfoFile?: string };
    references?: { path: string }[];
  };
  const buildInfo = path.join(
    projectDir,
    tsconfig.compilerOptions?.tsBuildInfoFile ?? 'dist/tsconfig.tsbuildinfo',
  );
  let built: number;
  try {
    built = statSync(buildInfo).mtimeMs;
  } catch {
    return true;
  }
  const sources = Math.max(
    newestSource(path.join(projectDir, 'src')),
    statSync(tsconfigPath).mtimeMs,
    statSync(path.join(projectDir, 'package.json')).mtimeMs,
  );
  if (sources > built) return true;
  return (tsconfig.references ?? []).some((ref) => isStale(path.resolve(projectDir, ref.path), seen));
}

/**
 * Builds a project (and its references) with `tsc -b` when its `dist/` is missing or older than
 * its sources, so tests that spawn processes run current code. Call it in `beforeAll`; `npm test`
 * builds everything first, making this a cheap timestamp check. Concurrent callers (vitest runs
 * files in parallel) take turns through a lock directory.
 * @param project path relative to the repo root (`libs/telemetry`) or absolute.
 */
export async function ensureBuilt(project: string, timeoutMs = 120_000): Promise<void> {
  const projectDir = path.resolve(repoRoot, project);
  if (!isStale(projectDir)) return;
  const lock = path.join(
    tmpdir(),
    `slipway-build-${createHash('sha256').update(repoRoot).digest('hex').slice(0, 12)}.lock`,
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than the timeout belongs to a process that died mid-build.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > timeoutMs) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      await sleep(200);
    }
  }
  try {
    if (!isStale(projectDir)) return;
    execFileSync(path.join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-b', projectDir], {
      cwd: repoRoot,
      stdio: 'pipe',
      timeout: timeoutMs,
    });
  } catch (error) {
    const output = (error as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`tsc -b ${project} failed:\n${output}`, { cause: error });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
