// Runs harness.fixture-test.ts in a nested vitest, so app.test.ts can check what a developer sees
// when a test fails or leaks an app. Mirrors the root config's resolution, without its JSON report.
const conditions = ['@slipway/source', 'node', 'import', 'module', 'default'];

export default {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['node', 'import', 'default'] } },
  test: {
    include: ['libs/testing/test-fixtures/harness.fixture-test.ts'],
    environment: 'node',
    pool: 'forks',
    reporters: ['default'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
};
