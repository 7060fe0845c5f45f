import { defineConfig } from 'vitest/config';

// One vitest run covers every project. Workspace packages resolve to their TypeScript sources
// through the "@slipway/source" export condition, so unit tests need no build; end-to-end tests
// in test/ start the built apps as processes.
const conditions = ['@slipway/source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['node', 'import', 'default'] } },
  test: {
    include: ['{apps,libs,tools}/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    environment: 'node',
    // CI reads the JSON report (tools/ci/summarize.mjs) for its closing "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    env: { ORT_DISABLE_TELEMETRY: '1' },
  },
});
