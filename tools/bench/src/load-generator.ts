/**
 * Load-generator process, forked by the orchestrator once per cell (see run-load.ts): receives a
 * {@link LoadJob} over IPC, runs the closed loop, sends phases and the result, and exits. It runs
 * apart from the server under test and from the orchestrator, so every scenario's client costs
 * the same.
 */
import { runClosedLoop } from './load/closed-loop.js';
import { createDriver } from './load/drivers.js';
import type { LoadJob, LoadMessage, LoadResult } from './load/protocol.js';
import { createLatencyHistogram, throughputPerSecond } from './stats.js';

function send(message: LoadMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

async function run(job: LoadJob): Promise<LoadResult> {
  const driver = await createDriver(job.driver);
  try {
    const histogram = createLatencyHistogram();
    let cpuAtStart = process.cpuUsage();
    let cpuAtEnd: NodeJS.CpuUsage | undefined;
    const outcome = await runClosedLoop({
      call: (lane) => driver.call(lane),
      concurrency: job.concurrency,
      warmupMs: job.warmupMs,
      durationMs: job.windowMs,
      maxCalls: job.maxCalls,
      record: histogram.record,
      onPhase: (phase) => {
        if (phase === 'measuring') cpuAtStart = process.cpuUsage();
        else cpuAtEnd = process.cpuUsage(cpuAtStart);
        void send({ type: 'phase', phase });
      },
    });
    const cpu = cpuAtEnd ?? process.cpuUsage(cpuAtStart);
    return {
      completed: outcome.completed,
      errors: outcome.errors,
      errorSamples: outcome.errorSamples,
      windowMs: outcome.windowMs,
      hitCallLimit: outcome.hitCallLimit,
      throughputPerSecond: throughputPerSecond(outcome.completed, outcome.windowMs),
      latency: histogram.summary(),
      histogram: histogram.encode(),
      clientCpuPercent: outcome.windowMs > 0 ? (cpu.user + cpu.system) / 10 / outcome.windowMs : 0,
      requestBytes: driver.requestBytes,
      responseBytes: driver.responseBytes(),
    };
  } finally {
    await driver.close();
  }
}

if (!process.send) {
  process.stderr.write(
    'load-generator.js is started by the benchmark (tools/bench/dist/main.js), not by hand\n',
  );
  process.exit(2);
}

process.once('message', (job: LoadJob) => {
  // The orchestrator kills a silent generator too; this bound holds even if it died.
  const watchdog = setTimeout(
    () => {
      void send({ type: 'error', message: 'load generator exceeded its time bound' }).then(() =>
        process.exit(1),
      );
    },
    job.warmupMs + job.windowMs + 60_000,
  );
  run(job)
    .then((result) => send({ type: 'result', result }))
    .catch((error: unknown) =>
      send({
        type: 'error',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
    )
    .finally(() => {
      clearTimeout(watchdog);
      process.disconnect?.();
    });
});
