// Informal latency check of GetFeatureVector (not part of the test suite; no assertions):
//   npx tsc -b apps/features && node apps/features/scripts/bench-vector.mjs
// Starts the built service as in production (its own process, telemetry hook loaded), registers
// a 10-feature set over two views, writes 10,000 entities, then forks a client process that
// sends GetFeatureVector at a steady rate, open loop, and prints latency percentiles.
//
// BENCH_RATE (default 1000 req/s), BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2),
// BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=.bench/prof") profile the server;
// BENCH_OMIT_NAMES=1 asks for vectors without column and feature names (as a router would);
// BENCH_TELEMETRY=0 starts it without the OpenTelemetry hook. BENCH_BASELINE=1 measures, with the
// same client and load, a bare grpc-js server (no Slipway code) that answers a reply of the
// vector response's size: the floor of what any unary call costs here.
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { features, testing } from '@slipway/contracts';
import { fit, serializeFitted } from '@slipway/features';
import { createClient } from '@slipway/service-kit';
import * as hdr from 'hdr-histogram-js';

const ENTITIES = 10_000;
const TOKEN = 'bench-token';
const env = (name, fallback) => Number(process.env[name] || fallback);

const spec = {
  name: 'bench',
  version: 1,
  entityKeys: ['user_id'],
  features: [
    {
      name: 'amount_log',
      source: { field: 'amount' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'median' }, { type: 'log1p' }, { type: 'standardize' }],
    },
    {
      name: 'amount_q',
      source: { field: 'amount' },
      kind: 'numeric',
      transforms: [{ type: 'bucketize', quantiles: 10 }],
    },
    {
      name: 'balance',
      source: { field: 'balance' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'mean' }, { type: 'standardize' }],
    },
    {
      name: 'spend_ratio',
      source: { ratio: ['amount', 'limit'] },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'constant', value: 0 }],
    },
    {
      name: 'merchant',
      source: { field: 'merchant' },
      kind: 'categorical',
      transforms: [
        { type: 'impute', strategy: 'mode' },
        { type: 'one-hot', topK: 20 },
      ],
    },
    { name: 'country', source: { field: 'country' }, kind: 'categorical', transforms: [{ type: 'one-hot' }] },
    {
      name: 'device',
      source: { field: 'device' },
      kind: 'categorical',
      transforms: [{ type: 'hash-bucket', buckets: 1024 }],
    },
    { name: 'hour', source: { time: { field: 'ts', part: 'hour' } }, kind: 'numeric', transforms: [] },
    { name: 'limit', source: { field: 'limit' }, kind: 'numeric', transforms: [{ type: 'min-max' }] },
    {
      name: 'score',
      source: { requestTime: 'score' },
      kind: 'numeric',
      transforms: [{ type: 'impute', strategy: 'constant', value: -1 }],
    },
  ],
};

const { VALUE_TYPE_NUMBER: NUMBER, VALUE_TYPE_TEXT: TEXT } = features.ValueType;
const views = [
  {
    name: 'user_profile',
    entityKey: 'user_id',
    fields: [
      { name: 'country', type: TEXT },
      { name: 'device', type: TEXT },
      { name: 'limit', type: NUMBER },
    ],
    ttlSeconds: 0,
  },
  {
    name: 'user_activity',
    entityKey: 'user_id',
    fields: [
      { name: 'amount', type: NUMBER },
      { name: 'balance', type: NUMBER },
      { name: 'merchant', type: TEXT },
      { name: 'ts', type: NUMBER },
    ],
    ttlSeconds: 86_400 * 365,
  },
];

function random(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function rows() {
  const rand = random(42);
  return Array.from({ length: ENTITIES }, (_, i) => ({
    user_id: `u${i}`,
    amount: rand() < 0.05 ? null : Math.round(rand() * 50_000) / 100,
    balance: rand() * 10_000 - 2_000,
    limit: 1000 + Math.floor(rand() * 9) * 1000,
    merchant: `m${Math.floor(rand() * rand() * 40)}`,
    country: ['DE', 'FR', 'US', 'GB', 'NL'][Math.floor(rand() * 5)],
    device: `dev-${Math.floor(rand() * 1e6).toString(36)}`,
    ts: Date.now() - Math.floor(rand() * 3e9),
    score: rand(),
  }));
}

const value = (v) =>
  typeof v === 'number'
    ? { kind: { $case: 'number', number: v } }
    : typeof v === 'string'
      ? { kind: { $case: 'text', text: v } }
      : { kind: undefined };

async function startServer(dataDir, baseline) {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const telemetry = process.env.BENCH_TELEMETRY === '0' ? [] : ['--import', '@slipway/telemetry/register'];
  const entry = baseline
    ? [fileURLToPath(import.meta.url), '--echo-server']
    : [path.join(root, 'apps/features/dist/main.js')];
  const child = spawn(process.execPath, [...nodeArgs, ...telemetry, ...entry], {
    cwd: root,
    env: {
      ...process.env,
      SLIPWAY_FEATURES_ADDR: '127.0.0.1:0',
      SLIPWAY_FEATURES_DATA_DIR: dataDir,
      SLIPWAY_FEATURES_TOKENS: `${TOKEN}=bench:deployer`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the service exited with ${code} before listening`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('"msg":"listening"')) resolve(JSON.parse(line).address);
    });
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { address, pid: child.pid, stop: () => (child.kill('SIGTERM'), exited) };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux only). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Plain grpc-js EchoService/Echo answering `BENCH_ECHO_REPLY_BYTES` bytes. */
function serveEcho() {
  const reply = Buffer.alloc(Number(process.env.BENCH_ECHO_REPLY_BYTES || 600));
  const server = new grpc.Server();
  server.addService(testing.EchoServiceService, {
    echo: (_call, callback) => callback(null, { payload: reply, text: '' }),
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    console.log(JSON.stringify({ msg: 'listening', address: `127.0.0.1:${port}` }));
  });
  process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}

async function orchestrate() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'features-bench-'));
  const baseline = process.env.BENCH_BASELINE === '1';
  const server = await startServer(dataDir, baseline);
  try {
    if (baseline) {
      await runLoad(server, { address: server.address, baseline: true });
      return;
    }
    const client = createClient(features.FeatureServiceService, server.address, { token: TOKEN });
    const raw = rows();
    const fitted = fit(spec, raw);
    for (const view of views) await client.registerFeatureView(view);
    await client.registerFeatureSet({ fittedJson: serializeFitted(fitted) });
    for (let i = 0; i < raw.length; i += 1000) {
      const batch = raw.slice(i, i + 1000).flatMap((row) =>
        views.map((view) => ({
          view: view.name,
          entityId: row.user_id,
          eventTime: new Date(row.ts),
          values: Object.fromEntries(view.fields.map((f) => [f.name, value(row[f.name])])),
        })),
      );
      await client.writeFeatures({ rows: batch });
    }
    client.close();
    console.log(
      `service ${server.address}: ${fitted.spec.features.length} features, ${fitted.columns.length} columns, ${ENTITIES} entities`,
    );
    await runLoad(server, {
      address: server.address,
      ref: { name: spec.name, version: spec.version, contentHash: fitted.contentHash },
    });
  } finally {
    const exit = await server.stop();
    console.log(`service stopped: ${JSON.stringify(exit)}`);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Forks the load generator for `job` and prints its report and the server's CPU time. */
async function runLoad(server, job) {
  const cpuBefore = cpuSeconds(server.pid);
  const load = fork(fileURLToPath(import.meta.url), ['--client'], { stdio: 'inherit' });
  const result = await new Promise((resolve, reject) => {
    load.once('message', resolve);
    load.once('exit', (code) => reject(new Error(`the load generator exited with ${code}`)));
    load.send(job);
  });
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  console.log(result.report);
  console.log(
    `  server CPU over warm-up + window: ${cpu.toFixed(2)} s (${((cpu * 1e6) / result.sent).toFixed(0)} µs per request)`,
  );
}

async function generateLoad({ address, ref, baseline }) {
  const rate = env('BENCH_RATE', 1000);
  const windowMs = env('BENCH_SECONDS', 10) * 1000;
  const warmupMs = env('BENCH_WARMUP_SECONDS', 2) * 1000;
  const client = createClient(
    baseline ? testing.EchoServiceService : features.FeatureServiceService,
    address,
  );
  const payload = Buffer.alloc(64);
  const omitNames = process.env.BENCH_OMIT_NAMES === '1';
  await client.waitForReady(5000);
  const histogram = () =>
    hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 60_000_000,
      numberOfSignificantValueDigits: 3,
    });
  // From the scheduled send time (what an open-loop caller sees, queueing included) and from the
  // actual send time (the service and the transport alone).
  const fromSchedule = histogram();
  const fromSend = histogram();
  const rand = random(7);
  const intervalMs = 1000 / rate;
  const start = performance.now();
  const end = start + warmupMs + windowMs;
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const fire = (scheduled) => {
    const sentAt = performance.now();
    const measured = scheduled >= start + warmupMs;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const call = baseline
      ? client.echo({ payload, text: '' }, { deadline: 1000 })
      : client.getFeatureVector(
          {
            featureSet: ref,
            entityKeys: { user_id: `u${Math.floor(rand() * ENTITIES)}` },
            requestValues: { score: value(rand()) },
            omitNames,
          },
          { deadline: 1000 },
        );
    call
      .then(
        () => {
          const now = performance.now();
          if (measured) {
            completed++;
            fromSchedule.recordValue(Math.max(1, Math.round((now - scheduled) * 1000)));
            fromSend.recordValue(Math.max(1, Math.round((now - sentAt) * 1000)));
          }
        },
        () => {
          if (measured) errors++;
        },
      )
      .finally(() => inFlight--);
  };
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(
        Math.floor((Math.min(now, end) - start) / intervalMs),
        Math.floor((end - start) / intervalMs),
      );
      while (sent < due) fire(start + sent++ * intervalMs);
      if (now >= end) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  client.close();
  const ms = (h, p) => (h.getValueAtPercentile(p) / 1000).toFixed(3);
  const line = (label, h) =>
    `${label.padEnd(16)} p50 ${ms(h, 50)} ms  p90 ${ms(h, 90)}  p99 ${ms(h, 99)}  p99.9 ${ms(h, 99.9)}  max ${(h.maxValue / 1000).toFixed(3)}`;
  return {
    sent,
    report: [
      `${baseline ? 'baseline echo' : `GetFeatureVector${omitNames ? ' (omit_names)' : ''}`}, ${rate} req/s open loop, ${windowMs / 1000} s measured after ${warmupMs / 1000} s warm-up:`,
      `  completed ${completed}, errors ${errors}, max in flight ${maxInFlight}`,
      `  ${line('from schedule', fromSchedule)}`,
      `  ${line('from send', fromSend)}`,
    ].join('\n'),
  };
}

if (process.argv.includes('--echo-server')) {
  serveEcho();
} else if (process.argv.includes('--client')) {
  process.once('message', (job) => {
    generateLoad(job)
      .then((result) => process.send(result, () => process.exit(0)))
      .catch((err) => {
        console.error(err);
        process.exit(1);
      });
  });
} else {
  await orchestrate();
}
