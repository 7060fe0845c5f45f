import path from 'node:path';
import { serving } from '@slipway/contracts';
import { startPlatform, PLATFORM_TOKEN, type BenchPlatform } from '../platform.js';
import { startEchoServer } from '../processes.js';
import {
  downloadDeployedModel,
  encodeTransactions,
  probeRouter,
  type DeployedModel,
} from '../router-probe.js';
import type { Scenario } from '../scenario.js';
import type { TargetSpec } from '../targets.js';
import { ECHO_METHOD } from '../echo-method.js';
import type { GrpcUnaryDriverSpec } from '../load/drivers.js';
import { runLoad } from '../load/run-load.js';

/**
 * Scenario ids of the router group: each starts with `router/`, so `BENCH_ONLY=router` runs the
 * router and both its baselines (and `BENCH_ONLY=onnxruntime` does not pick the model baseline,
 * which needs the router's run).
 */
export const ROUTER_IDS = {
  router: 'router/predict',
  onnxruntime: 'router/model',
  echo: 'router/grpc-echo',
} as const;

const PREDICT = '/slipway.serving.v1.PredictionService/Predict';
const DEPLOYMENT = 'fraud';
/** Rows of demo data the model is trained on (as in the end-to-end tests). */
const TRAINING_ROWS = 2000;
/** Distinct requests sent in turn: 1,000 users, varied request-time values. */
const REQUESTS = 2000;
/** Transactions whose scores are checked against onnxruntime before measuring. */
const PROBED = 16;
/**
 * The platform's warm-up before its first cell, as a multiple of BENCH_WARMUP_SECONDS (default
 * 2 s → 10 s), at {@link WARMUP_CONCURRENCY} in flight: five processes' JIT needs thousands of
 * requests, and the 1-in-flight cell, measured first, would otherwise measure a cold router. In one
 * set of sequential runs, a router that had served 20,000 Predicts answered in p50 3.6 ms against
 * 5.9 ms cold, using 1.8 against 3.4 ms of CPU per request.
 */
const WARMUP_FACTOR = 5;
const WARMUP_CONCURRENCY = 64;
const GROUP =
  'router: PredictionService/Predict of the demo model "fraud" (features → worker, records → monitor)';

/** What the router scenario learned, for the model and echo baselines measured after it. */
interface RouterFacts {
  readonly model: DeployedModel;
  readonly rows: readonly Float32Array[];
  readonly responseBytes: number;
}

/** A PredictResponse of the demo model, encoded here: the echo's reply size when the router did not run. */
function typicalResponseBytes(): number {
  return serving.PredictResponse.encode({
    scores: [0.123456789],
    model: DEPLOYMENT,
    version: 1,
    variant: 'stable',
    requestId: '0'.repeat(32),
    experiment: '',
    featureStatus: {},
  }).finish().length;
}

function lastLines(platform: BenchPlatform, names: readonly string[]): string {
  return names.map((name) => `--- ${name}:\n${platform.logs(name).slice(-15).join('\n')}`).join('\n');
}

/**
 * The router as the platform's front door, and the baselines its targets are stated against, in
 * run order:
 * - `router/predict`: the whole platform as processes (registry, feature service, monitor, one
 *   worker, one router, default settings; see platform.ts), the demo model trained and deployed as
 *   `fraud`; load is `PredictionService/Predict` with varied entity keys and request-time values:
 *   the router fetches the feature vector, calls the worker and sends a record to the monitor.
 *   Measured once a pinned-version Predict succeeds and its scores match onnxruntime's. The
 *   platform is stopped before the baselines run.
 * - `router/model`: raw onnxruntime on the deployed artifact (downloaded from the
 *   registry), single feature-vector rows, one intra-op thread like the worker; at 1 in flight.
 * - `router/grpc-echo`: the bare grpc-js echo receiving the same PredictRequest bytes and replying
 *   with as many bytes as the router's PredictResponse.
 */
export function routerScenarios(): Scenario[] {
  let facts: RouterFacts | undefined;

  const router: Scenario = {
    id: ROUTER_IDS.router,
    group: GROUP,
    label: 'router Predict (default settings)',
    models: [],
    async setup(context) {
      const platform = await startPlatform({
        repoRoot: context.repoRoot,
        dir: path.join(context.workDir, 'platform'),
        rows: TRAINING_ROWS,
        workerNodeArgs: context.config.workerNodeArgs,
        workerEnv: context.config.workerEnv,
        log: context.log,
      });
      try {
        const model = await downloadDeployedModel(
          platform.registry,
          PLATFORM_TOKEN,
          DEPLOYMENT,
          context.workDir,
        );
        const probe = await probeRouter({
          router: platform.router,
          features: platform.features,
          token: PLATFORM_TOKEN,
          deployment: DEPLOYMENT,
          model,
          count: PROBED,
          timeoutMs: 120_000,
        });
        facts = { model, rows: probe.rows, responseBytes: probe.responseBytes };
        context.log(
          `router: ${model.model}@${model.version} ready behind the router; ${PROBED} scores match onnxruntime`,
        );
        const driver: GrpcUnaryDriverSpec = {
          kind: 'grpc-unary',
          address: platform.router,
          method: PREDICT,
          requests: encodeTransactions(REQUESTS, DEPLOYMENT),
          channels: context.config.channels,
          deadlineMs: 30_000,
        };
        const warmupMs = context.config.warmupMs * WARMUP_FACTOR;
        if (warmupMs > 0) {
          const warm = await runLoad({
            driver,
            concurrency: WARMUP_CONCURRENCY,
            warmupMs: 0,
            windowMs: warmupMs,
            maxCalls: Number.MAX_SAFE_INTEGER,
          });
          if (warm.errors > 0) {
            throw new Error(
              `${warm.errors} Predicts failed while warming up, e.g. ${warm.errorSamples.join(' | ')}`,
            );
          }
          context.log(
            `router: warmed up with ${warm.completed.toLocaleString('en-US')} Predicts at ${WARMUP_CONCURRENCY} in flight in ${warmupMs / 1000} s`,
          );
        }
        return {
          driver,
          processes: platform.processes,
          notes: [
            `router: ${model.model}@${model.version} (${model.fileBytes} B ONNX, FP32 [1, ${model.width}] "${model.inputName}" → "${model.outputName}"); ` +
              `${REQUESTS} distinct requests over 1,000 users; every prediction is recorded to the monitor; ` +
              `server CPU is the sum of ${platform.processes.map((p) => p.name).join(', ')}`,
          ],
          close: () => platform.stop(),
        };
      } catch (error) {
        const logs = lastLines(platform, ['router', 'worker']);
        await platform.stop();
        throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`, {
          cause: error,
        });
      }
    },
  };

  const onnxruntime: Scenario = {
    id: ROUTER_IDS.onnxruntime,
    group: GROUP,
    label: 'onnxruntime in-process, 1 intra-op thread (the model)',
    models: [],
    concurrencies: [1],
    async setup() {
      if (!facts) {
        throw new Error(`needs ${ROUTER_IDS.router} to run first in the same run (BENCH_ONLY=router)`);
      }
      const { model, rows } = facts;
      return {
        driver: {
          kind: 'onnxruntime',
          modelPath: model.file,
          inputName: model.inputName,
          outputName: model.outputName,
          rows,
          intraOpNumThreads: 1,
        },
        close: async () => undefined,
      };
    },
  };

  const echo: Scenario = {
    id: ROUTER_IDS.echo,
    group: GROUP,
    label: 'bare grpc-js echo',
    models: [],
    async setup(context) {
      const replyBytes = facts?.responseBytes ?? typicalResponseBytes();
      const server = await startEchoServer(replyBytes);
      return {
        driver: {
          kind: 'grpc-unary',
          address: server.address,
          method: ECHO_METHOD,
          requests: encodeTransactions(REQUESTS, DEPLOYMENT),
          channels: context.config.channels,
          deadlineMs: 30_000,
        },
        serverPid: server.pid,
        notes: [
          `echo receives the router's PredictRequest bytes and replies ${replyBytes} bytes ` +
            `(${facts ? "the router's median PredictResponse" : 'a typical PredictResponse, encoded here'})`,
        ],
        close: () => server.stop(),
      };
    },
  };

  return [router, onnxruntime, echo];
}

/**
 * The router's targets: Predict throughput at 64 in flight ≥ 30% of the bare echo's, and Predict
 * p50 at 1 in flight ≤ 1.3 × (3 hops of the echo's p50 + the model's p50 in onnxruntime).
 */
export function routerTargets(): TargetSpec[] {
  return [
    {
      id: 'router-vs-grpc',
      description: 'router @64: Predict ≥ 30% of the bare grpc-js echo',
      numerator: [{ scenario: ROUTER_IDS.router, concurrency: 64 }],
      denominator: { scenario: ROUTER_IDS.echo, concurrency: 64 },
      minRatio: 0.3,
    },
    {
      kind: 'latency',
      id: 'router-latency',
      description: 'router @1: Predict p50 ≤ 1.3 × (3 × echo p50 + model p50)',
      statistic: 'p50Ms',
      cell: { scenario: ROUTER_IDS.router, concurrency: 1 },
      factor: 1.3,
      terms: [
        { cell: { scenario: ROUTER_IDS.echo, concurrency: 1 }, weight: 3 },
        { cell: { scenario: ROUTER_IDS.onnxruntime, concurrency: 1 }, weight: 1 },
      ],
    },
  ];
}
