#!/usr/bin/env bash
# Creates the skeleton of a workspace project: tools/scaffold/new-project.sh <dir> <tags> [dep-dir...]
# e.g. tools/scaffold/new-project.sh libs/features "scope:shared,type:domain" libs/contracts
set -euo pipefail
dir=$1; tags=$2; shift 2
name="@slipway/$(basename "$dir")"
up=$(realpath -m --relative-to="$dir" .)
mkdir -p "$dir/src"
refs=""; deps=""
for d in "$@"; do
  refs+="${refs:+, }{ \"path\": \"$up/$d\" }"
  deps+="${deps:+, }\"@slipway/$(basename "$d")\": \"*\""
done
cat > "$dir/package.json" <<JSON
{
  "name": "$name",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "exports": {
    ".": {
      "@slipway/source": "./src/index.ts",
      "types": "./dist/index.d.ts",
      "default": "./dist/index.js"
    }
  },
  "dependencies": { $deps }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "$up/tsconfig.base.json",
  "compilerOptions": { "rootDir": "src", "outDir": "dist", "tsBuildInfoFile": "dist/tsconfig.tsbuildinfo" },
  "include": ["src/**/*.ts"],
  "exclude": ["src/**/*.test.ts"],
  "references": [$refs]
}
JSON
cat > "$dir/tsconfig.spec.json" <<JSON
{
  "extends": "$up/tsconfig.base.json",
  "compilerOptions": { "composite": false, "incremental": false, "noEmit": true, "declaration": false, "declarationMap": false },
  "include": ["src/**/*.ts"]
}
JSON
tagjson=$(printf '%s' "$tags" | sed 's/[^,][^,]*/"&"/g')
cat > "$dir/project.json" <<JSON
{
  "\$schema": "$up/node_modules/nx/schemas/project-schema.json",
  "name": "$(basename "$dir")",
  "projectType": "$( [[ $dir == apps/* ]] && echo application || echo library )",
  "tags": [$tagjson],
  "targets": {
    "build": { "command": "tsc -b tsconfig.json", "options": { "cwd": "{projectRoot}" } },
    "typecheck": { "command": "tsc -p tsconfig.spec.json", "options": { "cwd": "{projectRoot}" } },
    "test": { "command": "vitest run {projectRoot}" },
    "lint": { "command": "eslint {projectRoot} --max-warnings=0" }
  }
}
JSON
[ -f "$dir/src/index.ts" ] || echo "export {};" > "$dir/src/index.ts"
echo "created $dir ($name)"
npx prettier --write "$dir"/*.json > /dev/null
