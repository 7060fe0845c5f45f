import path from 'node:path';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { parseConfig } from '@slipway/service-kit';
import {
  natsServerBinary,
  startApp,
  startNatsServer,
  startPlatform,
  type NatsServer,
  type Platform,
  type RunningApp,
} from '@slipway/testing';
import { z } from 'zod';
import { processCpuMs } from '../process-cpu.js';
import { percentile } from '../stats.js';
import type { BenchContext, Scenario } from '../scenario.js';

/** The scenario's id; `BENCH_ONLY=stream` runs it alone. */
export const STREAM_ID = 'stream/jetstream';
const GROUP =
  'stream: `slipway worker --mode stream` on NATS JetStream, demo model "fraud" (features from the feature service, onnxruntime in-process)';
/** The target: end-to-end events/s at least this share of a bare consume → publish loop. */
const TARGET_RATIO = 0.5;
const INPUT_STREAM = 'BENCH_EVENTS';
const INPUT_SUBJECT = 'bench.events';
const LIVE_STREAM = 'BENCH_LIVE';

const configSchema = z.object({
  /** Events pre-loaded and drained per pass (`BENCH_STREAM_EVENTS`, default 100,000). */
  BENCH_STREAM_EVENTS: z.coerce.number().int().min(1_000).max(10_000_000).default(100_000),
  /** Passes of each system (alternating), the best counts. Default 2. */
  BENCH_STREAM_PASSES: z.coerce.number().int().min(1).max(10).default(2),
  /** Events/s of the latency phase. Default 1,000. */
  BENCH_STREAM_RATE: z.coerce.number().int().min(10).max(100_000).default(1_000),
  /** Seconds of the latency phase. Default 10. */
  BENCH_STREAM_LATENCY_SECONDS: z.coerce.number().min(1).max(600).default(10),
});

const rate = (n: number): string => Math.round(n).toLocaleString('en-US');
const encoder = new TextEncoder();

function event(i: number, prefix = 'e'): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      id: `${prefix}${i}`,
      entity: { userId: `u${i % 1000}` },
      values: { amount: 10 + (i % 400), hourOfDay: i % 24, merchantRisk: (i % 10) / 10 },
    }),
  );
}

interface Nats {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

async function stored(nats: Nats, stream: string): Promise<number> {
  try {
    return (await nats.jsm.streams.info(stream)).state.messages;
  } catch {
    return 0;
  }
}

/** Waits until `stream` holds `count` messages; the time it took from `since`, in ms. */
async function drained(
  nats: Nats,
  stream: string,
  count: number,
  since: number,
  limitMs: number,
): Promise<number> {
  for (;;) {
    const n = await stored(nats, stream);
    if (n >= count) return performance.now() - since;
    if (performance.now() - since > limitMs) {
      throw new Error(`only ${n} of ${count} messages reached ${stream} within ${limitMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function publishAll(nats: Nats, subject: string, count: number, prefix: string): Promise<void> {
  let pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < count; i++) {
    pending.push(nats.js.publish(subject, event(i, prefix), { msgID: `${prefix}${i}` }));
    if (pending.length >= 1000) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
}

/**
 * Open loop at `perSecond` for `seconds`: each event's publish time against the arrival of its
 * prediction on the output subject (a core subscription); the latencies in ms. A warm-up at the
 * same rate comes first and is not counted (a fresh process runs cold code for its first seconds).
 */
async function latencies(
  nats: Nats,
  input: string,
  output: string,
  perSecond: number,
  seconds: number,
  prefix: string,
  idOf: (data: Uint8Array) => string,
  warmupSeconds = 0,
): Promise<number[]> {
  if (warmupSeconds > 0)
    await latencies(nats, input, output, perSecond, warmupSeconds, `${prefix}warm`, idOf);
  const sent = new Map<string, number>();
  const got: number[] = [];
  const sub = nats.nc.subscribe(output, {
    callback: (_err, m) => {
      const at = performance.now();
      const start = sent.get(idOf(m.data));
      if (start !== undefined) got.push(at - start);
    },
  });
  const total = Math.round(perSecond * seconds);
  const began = performance.now();
  for (let i = 0; i < total; i++) {
    const due = began + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sent.set(`${prefix}${i}`, performance.now());
    void nats.js.publish(input, event(i, prefix), { msgID: `${prefix}${i}` });
  }
  const deadline = performance.now() + 30_000;
  while (got.length < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  sub.unsubscribe();
  if (got.length < total) throw new Error(`latency phase: ${got.length} of ${total} predictions arrived`);
  return got.sort((a, b) => a - b);
}

/**
 * Streaming inference end to end: N events pre-loaded into a JetStream stream, drained by the
 * stream worker (features + model + publish + ack, records to the monitor) and, in the same run,
 * by a bare consume → publish loop (tools/bench stream-baseline: same consumer settings, batch
 * shape and ack-after-publish, nothing else); alternating passes, each on its own durable
 * consumer and output stream, the best of each. Then p50/p99 event-to-prediction latency of
 * both at a fixed open-loop rate. Everything runs on this machine: nats-server, registry,
 * feature service, monitor, the worker and the load. Its numbers are notes, not cells.
 */
export function streamScenario(): Scenario {
  return {
    id: STREAM_ID,
    group: GROUP,
    label: 'stream worker',
    models: [],
    concurrencies: [],
    async setup(context: BenchContext) {
      const settings = parseConfig(configSchema, process.env);
      if (!natsServerBinary()) {
        const note = 'skipped: nats-server is not installed (Debian: apt-get install nats-server)';
        context.log(`stream: ${note}`);
        return {
          driver: { kind: 'grpc-unary', address: '', method: '', requests: [], channels: 1, deadlineMs: 0 },
          notes: [note],
          close: async () => undefined,
        };
      }
      const dir = path.join(context.workDir, 'stream');
      let server: NatsServer | undefined;
      let platform: Platform | undefined;
      let nc: NatsConnection | undefined;
      const apps: RunningApp[] = [];
      const stop = async (): Promise<void> => {
        for (const app of apps.reverse()) if (app.running) await app.stop();
        await nc?.drain().catch(() => undefined);
        await platform?.stop();
        await server?.stop();
      };
      try {
        server = await startNatsServer();
        platform = await startPlatform({ workers: 0, routers: 0, dir });
        nc = await connect({ servers: server.url });
        const nats: Nats = { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
        const n = settings.BENCH_STREAM_EVENTS;
        await nats.jsm.streams.add({
          name: INPUT_STREAM,
          subjects: [INPUT_SUBJECT],
          duplicate_window: 600e9,
        });
        await publishAll(nats, INPUT_SUBJECT, n, 'e');
        context.log(`stream: ${rate(n)} events loaded into ${INPUT_STREAM}`);
        const p = platform;
        const srv = server;

        const startWorker = async (name: string, input: string, output: string, consumer: string) => {
          const app = await startApp({
            name,
            entry: context.workerEntry,
            waitUntil: 'spawned',
            env: {
              SLIPWAY_WORKER_MODE: 'stream',
              SLIPWAY_NATS_URL: srv.url,
              SLIPWAY_STREAM_DEPLOYMENT: 'fraud',
              SLIPWAY_STREAM_INPUT_SUBJECT: input,
              SLIPWAY_STREAM_OUTPUT_SUBJECT: output,
              SLIPWAY_STREAM_CONSUMER: consumer,
              SLIPWAY_REGISTRY_ADDR: p.registry.address,
              SLIPWAY_FEATURES_ADDR: p.features.address,
              SLIPWAY_MONITOR_ADDR: p.monitor!.address,
              SLIPWAY_WORKER_TOKEN: p.token,
              SLIPWAY_WORKER_DATA_DIR: path.join(dir, name),
              ...context.config.workerEnv,
            },
            nodeArgs: context.config.workerNodeArgs,
          });
          apps.push(app);
          await app.waitForLog((line) => line.json?.['msg'] === 'stream worker consuming', 120_000);
          return app;
        };
        const startBaseline = async (name: string, stream: string, input: string, output: string) => {
          const app = await startApp({
            name,
            entry: path.join(context.repoRoot, 'tools/bench/dist/stream-baseline.js'),
            waitUntil: 'spawned',
            telemetry: false,
            env: {
              BASELINE_NATS_URL: srv.url,
              BASELINE_STREAM: stream,
              BASELINE_CONSUMER: name,
              BASELINE_INPUT_SUBJECT: input,
              BASELINE_OUTPUT_SUBJECT: output,
            },
          });
          apps.push(app);
          await app.waitForLog((line) => line.json?.['msg'] === 'consuming', 30_000);
          return app;
        };
        const cpu = (pid: number) => processCpuMs(pid) ?? 0;

        let bestWorker = 0;
        let bestBaseline = 0;
        const cpuNotes: string[] = [];
        for (let pass = 1; pass <= settings.BENCH_STREAM_PASSES; pass++) {
          const baseOut = `bench.baseline.${pass}`;
          await nats.jsm.streams.add({
            name: `BENCH_BASELINE_${pass}`,
            subjects: [baseOut],
            duplicate_window: 600e9,
          });
          const natsCpu0 = cpu(srv.pid);
          const started = performance.now();
          const baseline = await startBaseline(`baseline-${pass}`, INPUT_STREAM, INPUT_SUBJECT, baseOut);
          const baseMs = await drained(nats, `BENCH_BASELINE_${pass}`, n, started, 600_000);
          const baseNatsCpu = cpu(srv.pid) - natsCpu0;
          const baseCpu = cpu(baseline.pid);
          await baseline.stop();
          const baseRate = n / (baseMs / 1000);
          bestBaseline = Math.max(bestBaseline, baseRate);
          context.log(`stream: pass ${pass}: bare consume → publish ${rate(baseRate)} events/s`);

          const out = `bench.scored.${pass}`;
          await nats.jsm.streams.add({
            name: `BENCH_SCORED_${pass}`,
            subjects: [out],
            duplicate_window: 600e9,
          });
          // The worker loads the model before it consumes: its start-up is not part of the drain.
          const worker = await startWorker(`stream-${pass}`, INPUT_SUBJECT, out, `bench-worker-${pass}`);
          const natsCpu1 = cpu(srv.pid);
          const featuresCpu1 = cpu(p.features.pid);
          const monitorCpu1 = cpu(p.monitor!.pid);
          const workerCpu1 = cpu(worker.pid);
          const began = performance.now();
          const workerMs = await drained(nats, `BENCH_SCORED_${pass}`, n, began, 600_000);
          const workerRate = n / (workerMs / 1000);
          bestWorker = Math.max(bestWorker, workerRate);
          const share = (ms: number, wall: number) => `${((100 * ms) / wall).toFixed(0)}%`;
          cpuNotes.push(
            `pass ${pass} CPU (share of one core over the drain): stream worker ${share(cpu(worker.pid) - workerCpu1, workerMs)}, ` +
              `feature service ${share(cpu(p.features.pid) - featuresCpu1, workerMs)}, monitor ${share(cpu(p.monitor!.pid) - monitorCpu1, workerMs)}, ` +
              `nats-server ${share(cpu(srv.pid) - natsCpu1, workerMs)}; bare loop ${share(baseCpu, baseMs)} with nats-server ${share(baseNatsCpu, baseMs)}`,
          );
          await worker.stop();
          context.log(`stream: pass ${pass}: stream worker ${rate(workerRate)} events/s`);
        }

        // Latency at a fixed open-loop rate: fresh subjects, both systems consuming as events arrive.
        const perSecond = settings.BENCH_STREAM_RATE;
        const seconds = settings.BENCH_STREAM_LATENCY_SECONDS;
        const warmupSeconds = Math.max(2, context.config.warmupMs / 1000);
        await nats.jsm.streams.add({
          name: LIVE_STREAM,
          subjects: ['bench.live.>'],
          duplicate_window: 600e9,
        });
        await nats.jsm.streams.add({
          name: 'BENCH_LIVE_OUT',
          subjects: ['bench.live-out.>'],
          duplicate_window: 600e9,
        });
        const liveWorker = await startWorker(
          'stream-live',
          'bench.live.worker',
          'bench.live-out.worker',
          'bench-live',
        );
        const decoder = new TextDecoder();
        const workerLatency = await latencies(
          nats,
          'bench.live.worker',
          'bench.live-out.worker',
          perSecond,
          seconds,
          'w',
          (d) => (JSON.parse(decoder.decode(d)) as { eventId: string }).eventId,
          warmupSeconds,
        );
        await liveWorker.stop();
        const liveBaseline = await startBaseline(
          'baseline-live',
          LIVE_STREAM,
          'bench.live.baseline',
          'bench.live-out.baseline',
        );
        const baseLatency = await latencies(
          nats,
          'bench.live.baseline',
          'bench.live-out.baseline',
          perSecond,
          seconds,
          'b',
          (d) => (JSON.parse(decoder.decode(d)) as { id: string }).id,
          warmupSeconds,
        );
        await liveBaseline.stop();

        const ratio = bestWorker / bestBaseline;
        const ms = (v: number) => `${v.toFixed(1)} ms`;
        const notes = [
          `${rate(n)} pre-loaded events drained end to end (best of ${settings.BENCH_STREAM_PASSES} passes; events/s from the first delivery to the last prediction stored): ` +
            `stream worker ${rate(bestWorker)} events/s, bare JetStream consume → publish loop ${rate(bestBaseline)} events/s`,
          `target stream worker ≥ ${TARGET_RATIO * 100}% of the bare loop: ${(ratio * 100).toFixed(0)}% → ${ratio >= TARGET_RATIO ? 'PASS' : 'FAIL'}`,
          `event → prediction latency at ${rate(perSecond)} events/s open loop for ${seconds} s after ${warmupSeconds} s of warm-up (publish call to the prediction's arrival on a subscriber): ` +
            `stream worker p50 ${ms(percentile(workerLatency, 50))}, p99 ${ms(percentile(workerLatency, 99))}; ` +
            `bare loop p50 ${ms(percentile(baseLatency, 50))}, p99 ${ms(percentile(baseLatency, 99))}`,
          ...cpuNotes,
        ];
        for (const note of notes) context.log(`stream: ${note}`);
        await stop();
        return {
          driver: { kind: 'grpc-unary', address: '', method: '', requests: [], channels: 1, deadlineMs: 0 },
          notes,
          close: stop,
        };
      } catch (error) {
        await stop();
        throw error;
      }
    },
  };
}
