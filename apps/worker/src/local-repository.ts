import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@slipway/service-kit';
import { resolveLoadSettings, modelOverridesSchema, type LoadSettings } from './load-settings.js';
import type { WorkerConfig } from './config.js';

/** One model version found in a local repository. */
export interface LocalVersion {
  readonly name: string;
  readonly version: number;
  /** Absolute path of `<name>/<version>/model.onnx`. */
  readonly file: string;
  /** How to run it, or why the model folder cannot be served (an invalid config.json). */
  readonly settings: LoadSettings | { readonly error: string };
}

/** What a scan found: the versions to load, and the folders skipped with the reason. */
export interface LocalScan {
  readonly versions: readonly LocalVersion[];
  readonly skipped: readonly { readonly path: string; readonly reason: string }[];
}

const VERSION_DIR = /^[1-9][0-9]{0,9}$/;
const MODEL_FILE = 'model.onnx';
const CONFIG_FILE = 'config.json';

// Code-point order, the same on every machine whatever its locale.
const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}

async function readOverrides(
  config: WorkerConfig,
  file: string,
): Promise<LoadSettings | { readonly error: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return resolveLoadSettings(config, {});
    return { error: `cannot read ${file}: ${(error as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { error: `${file} is not valid JSON: ${(error as Error).message}` };
  }
  const parsed = modelOverridesSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(file)'}: ${i.message}`)
      .join('; ');
    return {
      error: `${file} is invalid (${problems}); allowed keys: maxBatchSize, maxQueueDelayMicros, preferredBatchSizes, executor, threads`,
    };
  }
  try {
    return resolveLoadSettings(config, parsed.data);
  } catch (error) {
    return { error: `${file} is invalid: ${(error as Error).message}` };
  }
}

/**
 * Scans a model repository in Triton's layout: `<dir>/<name>/<version>/model.onnx`, the version a
 * positive integer, plus an optional `<dir>/<name>/config.json` with per-model overrides (see
 * {@link modelOverridesSchema}). Folders that do not fit are skipped with the reason; a model
 * whose config.json is invalid keeps its versions, each carrying the error, so the worker can
 * report them as failed rather than silently absent.
 *
 * @throws Error when `dir` itself cannot be read.
 */
export async function scanModelRepository(dir: string, config: WorkerConfig): Promise<LocalScan> {
  const root = path.resolve(dir);
  const versions: LocalVersion[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const models = await readdir(root, { withFileTypes: true }).catch((error: unknown) => {
    throw new Error(`cannot read the model repository ${root}: ${(error as Error).message}`, {
      cause: error,
    });
  });
  for (const modelEntry of models.sort(byName)) {
    const modelDir = path.join(root, modelEntry.name);
    if (modelEntry.name.startsWith('.')) continue;
    if (!(await stat(modelDir).catch(() => undefined))?.isDirectory()) {
      skipped.push({ path: modelDir, reason: 'not a folder; expected <name>/<version>/model.onnx' });
      continue;
    }
    const settings = await readOverrides(config, path.join(modelDir, CONFIG_FILE));
    const found: LocalVersion[] = [];
    for (const entry of (await readdir(modelDir, { withFileTypes: true })).sort(byName)) {
      const versionDir = path.join(modelDir, entry.name);
      if (entry.name === CONFIG_FILE || entry.name.startsWith('.')) continue;
      if (!VERSION_DIR.test(entry.name)) {
        skipped.push({
          path: versionDir,
          reason: 'version folders must be named by a positive integer (1, 2, ...)',
        });
        continue;
      }
      const file = path.join(versionDir, MODEL_FILE);
      if (!(await isFile(file))) {
        skipped.push({ path: versionDir, reason: `no ${MODEL_FILE} in this version folder` });
        continue;
      }
      found.push({ name: modelEntry.name, version: Number(entry.name), file, settings });
    }
    if (found.length === 0) {
      skipped.push({ path: modelDir, reason: `no <version>/${MODEL_FILE} inside` });
      continue;
    }
    versions.push(...found.sort((a, b) => a.version - b.version));
  }
  return { versions, skipped };
}

/** Logs what a scan skipped and what it found. */
export function logScan(scan: LocalScan, dir: string, logger: Logger): void {
  for (const { path: skippedPath, reason } of scan.skipped) {
    logger.warn({ path: skippedPath, reason }, 'skipping a folder of the model repository');
  }
  logger.info(
    { repository: path.resolve(dir), versions: scan.versions.length, skipped: scan.skipped.length },
    'model repository scanned',
  );
}
