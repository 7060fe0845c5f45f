// Lint: typescript-eslint, an import-cycle check, and nx module boundaries by project tags.
// Layers (tags type:*): contracts → domain → transport → app; infra (telemetry) stands beside
// them; testing and tools may use any lib but nothing may import an app or a tool.
import nx from '@nx/eslint-plugin';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const libs = ['type:contracts', 'type:domain', 'type:infra', 'type:transport', 'type:data-access'];

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '.nx/**', 'libs/contracts/src/gen/**', 'coverage/**'],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx, 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true })],
      // no-cycle parses the imported files itself: it needs to know .ts files and their parser.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
            { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:infra'] },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:infra'],
            },
            {
              sourceTag: 'type:data-access',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:infra', 'type:data-access'],
            },
            { sourceTag: 'type:transport', onlyDependOnLibsWithTags: [...libs] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: [...libs] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: [...libs, 'type:testing'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: [...libs, 'type:testing'] },
          ],
        },
      ],
    },
  },
  {
    // Tests, and the fixtures only tests import, may use the harness whatever layer they test.
    files: ['**/*.test.ts', 'test/**/*.ts', '**/src/test-support/**/*.ts', '**/src/testing/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  prettier,
);
