#!/usr/bin/env node
// Prints vitest's JSON report as the single closing line CI reads: "N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.error(`no vitest report at ${file}: ${err.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
// Suites that failed to load (import errors) hold no tests but must count as failures.
const brokenSuites = report.testResults.filter(
  (s) => s.status === 'failed' && s.assertionResults.length === 0,
);
const failed = report.numFailedTests + brokenSuites.length;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || report.numPassedTests === 0 ? 1 : 0);
