#!/usr/bin/env node
// Regenerates libs/contracts/src/gen from proto/ with buf and the local ts-proto plugin.
// CI runs this and fails when the committed output differs.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const buf = path.join(root, 'node_modules/.bin/buf');
execFileSync(buf, ['generate'], { cwd: root, stdio: 'inherit' });
console.log('codegen: libs/contracts/src/gen regenerated from proto/');
