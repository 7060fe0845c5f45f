import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the repository's `proto/` directory (the same from `src/` and `dist/`).
 * Server reflection loads the descriptors from here.
 */
export const PROTO_ROOT = fileURLToPath(new URL('../../../proto', import.meta.url));

/** Every `.proto` file under PROTO_ROOT, relative to it, sorted. */
export function listProtoFiles(root: string = PROTO_ROOT): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.proto')) out.push(path.relative(root, full));
    }
  };
  walk(root);
  return out.sort();
}
