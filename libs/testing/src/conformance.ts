import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The shared conformance corpus (real ONNX models and data sets with reference outputs), or
 * undefined when it is absent. `SLIPWAY_CONFORMANCE_DIR` overrides the default
 * `../shared/conformance` next to the repository. Tests that need it skip with a visible message
 * when it is missing: `describe.skipIf(!conformanceDir())(...)` plus {@link conformanceSkipReason}.
 */
export function conformanceDir(): string | undefined {
  const dir = process.env['SLIPWAY_CONFORMANCE_DIR'] || path.resolve(repoRoot, '../shared/conformance');
  return existsSync(path.join(dir, 'models')) ? dir : undefined;
}

/** Logs why conformance tests are skipped; returns true when they must be. */
export function skipWithoutConformance(): boolean {
  if (conformanceDir()) return false;
  console.warn(
    'conformance corpus not found: set SLIPWAY_CONFORMANCE_DIR or place it at ../shared/conformance; skipping',
  );
  return true;
}
