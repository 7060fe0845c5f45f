/**
 * `npm run bench`: the performance benchmark. Measures raw onnxruntime, a bare grpc-js echo, the
 * worker app and the router in front of a whole platform (processes), prints a table per group and
 * the targets (ratios between cells of this same run), and writes `.bench/results.json` and `.bench/results.md` at the repo root.
 * Exit code 0 whatever the targets say; non-zero only when something could not be measured.
 * Settings: BENCH_SECONDS, BENCH_QUICK=1, BENCH_WARMUP_SECONDS, BENCH_CHANNELS, BENCH_CONCURRENCY,
 * BENCH_ONLY, BENCH_WORKER_NODE_ARGS, BENCH_WORKER_ENV (see config.ts).
 */
import path from 'node:path';
import { ConfigError } from '@slipway/service-kit';
import { repoRoot } from '@slipway/testing';
import { runBench, writeResults } from './bench.js';
import { parseBenchConfig } from './config.js';
import { renderConsole } from './report.js';
import { defaultScenarios, defaultTargets } from './scenarios/index.js';

function loadConfig() {
  try {
    return parseBenchConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`bench: ${error.message}\n`);
    return process.exit(2);
  }
}

const config = loadConfig();
// Exiting runs the harness's exit hooks, which kill started servers and load generators.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const scenarios = defaultScenarios().filter(
  (s) => config.only.length === 0 || config.only.some((part) => s.id.includes(part)),
);
const log = (line: string): void => void process.stdout.write(`${line}\n`);

try {
  const { results, report } = await runBench({
    config,
    scenarios,
    targets: defaultTargets(),
    repoRoot,
    workerEntry: path.join(repoRoot, 'apps', 'worker', 'dist', 'main.js'),
    log,
  });
  const files = await writeResults(path.join(repoRoot, '.bench'), results, report);
  log(`\n${renderConsole(report)}\n`);
  log(
    `wrote ${path.relative(process.cwd(), files.json)} and ${path.relative(process.cwd(), files.markdown)}`,
  );
  process.exitCode = results.failed ? 1 : 0;
} catch (error) {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
