import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { createCliContext } from '../context.js';
import { entryOf, telemetryImport } from '../up/entries.js';
import { up } from '../up/up.js';

/** Runs a built entry in the foreground, forwarding signals; resolves with its exit code. */
function runForeground(
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  telemetry: boolean,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [...(telemetry ? ['--import', telemetryImport()] : []), entry, ...args],
      {
        env,
        stdio: 'inherit',
      },
    );
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** A usage problem: the message on stderr, exit code 2. */
function usage(message: string): void {
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = 2;
}

/** `slipway up`, `slipway worker`, `slipway train`. */
export function platformCommands(program: Command): void {
  program
    .command('up')
    .description(
      'run the whole platform on this machine (registry, feature service, monitor, workers, router) with the demo model',
    )
    .option('--data-dir <dir>', 'state directory (default $SLIPWAY_DATA_DIR or .slipway)')
    .option('--workers <n>', 'worker replicas', '1')
    .option(
      '--registry-addr <host:port>',
      'registry address (default $SLIPWAY_REGISTRY_ADDR or 127.0.0.1:7001)',
    )
    .option('--worker-port <port>', 'first worker port; 0 lets each worker pick a free port', '7010')
    .option(
      '--features-addr <host:port>',
      'feature service address; port 0 picks a free port (default $SLIPWAY_FEATURES_ADDR or 127.0.0.1:7002)',
    )
    .option(
      '--monitor-addr <host:port>',
      'monitor address; port 0 picks a free port (default $SLIPWAY_MONITOR_ADDR or 127.0.0.1:7003)',
    )
    .option(
      '--router-addr <host:port>',
      'router address; port 0 picks a free port (default $SLIPWAY_ROUTER_ADDR or 127.0.0.1:8001)',
    )
    .option(
      '--nats <url>',
      'NATS server with JetStream: also run a stream worker scoring tx.events into tx.scored (default $SLIPWAY_NATS_URL; unset: none)',
    )
    .action(
      async (opts: {
        nats?: string;
        dataDir?: string;
        workers: string;
        registryAddr?: string;
        workerPort: string;
        featuresAddr?: string;
        monitorAddr?: string;
        routerAddr?: string;
      }) => {
        await up({
          dataDir: opts.dataDir || process.env['SLIPWAY_DATA_DIR'] || '.slipway',
          workers: Math.max(1, Number(opts.workers) || 1),
          registryAddress: opts.registryAddr || process.env['SLIPWAY_REGISTRY_ADDR'] || '127.0.0.1:7001',
          firstWorkerPort: Number(opts.workerPort),
          featuresAddress: opts.featuresAddr || process.env['SLIPWAY_FEATURES_ADDR'] || '127.0.0.1:7002',
          monitorAddress: opts.monitorAddr || process.env['SLIPWAY_MONITOR_ADDR'] || '127.0.0.1:7003',
          routerAddress: opts.routerAddr || process.env['SLIPWAY_ROUTER_ADDR'] || '127.0.0.1:8001',
          ...(opts.nats || process.env['SLIPWAY_NATS_URL']
            ? { natsUrl: opts.nats || process.env['SLIPWAY_NATS_URL'] }
            : {}),
        });
      },
    );

  program
    .command('worker')
    .description(
      "run an inference worker: online (Open Inference Protocol, from --models or the registry), --mode stream (NATS JetStream events in, predictions out) or --mode batch (the registry's batch schedules; same as `slipway batch worker`)",
    )
    .option('--mode <mode>', 'online, stream or batch', 'online')
    .option('--models <dir>', 'online: Triton-layout model repository: <name>/<version>/model.onnx')
    .option('--deployment <name>', 'stream: the deployment whose release strategy scores each event')
    .option('--input-subject <subject>', 'stream: subject the events arrive on (e.g. tx.events)')
    .option('--output-subject <subject>', 'stream: subject predictions are published to (e.g. tx.scored)')
    .option(
      '--dead-letter-subject <subject>',
      'stream: where poison events go (default <output>.dead-letter)',
    )
    .option('--nats <url>', 'stream: NATS server (default $SLIPWAY_NATS_URL or nats://127.0.0.1:4222)')
    .option('--consumer <name>', 'stream: durable consumer shared by workers (default slipway-<deployment>)')
    .option('--max-batch <events>', 'stream: events per micro-batch at most (default 256)')
    .option('--max-wait <duration>', 'stream: longest wait for a micro-batch to fill (default 5ms)')
    .option('--max-deliveries <n>', 'stream: deliveries before a poison event is dead-lettered (default 3)')
    .option('--ordered', "stream: keep each entity's events in order (one worker per consumer)")
    .allowUnknownOption(false)
    .action(
      async (opts: {
        mode: string;
        models?: string;
        deployment?: string;
        inputSubject?: string;
        outputSubject?: string;
        deadLetterSubject?: string;
        nats?: string;
        consumer?: string;
        maxBatch?: string;
        maxWait?: string;
        maxDeliveries?: string;
        ordered?: boolean;
      }) => {
        const env = { ...process.env };
        if (opts.mode === 'stream') {
          if (!opts.deployment || !opts.inputSubject || !opts.outputSubject) {
            return usage(
              'slipway worker --mode stream needs --deployment, --input-subject and --output-subject',
            );
          }
          const { token } = createCliContext({});
          Object.assign(env, {
            SLIPWAY_WORKER_MODE: 'stream',
            SLIPWAY_STREAM_DEPLOYMENT: opts.deployment,
            SLIPWAY_STREAM_INPUT_SUBJECT: opts.inputSubject,
            SLIPWAY_STREAM_OUTPUT_SUBJECT: opts.outputSubject,
            ...(opts.deadLetterSubject ? { SLIPWAY_STREAM_DEAD_LETTER_SUBJECT: opts.deadLetterSubject } : {}),
            ...(opts.nats ? { SLIPWAY_NATS_URL: opts.nats } : {}),
            ...(opts.consumer ? { SLIPWAY_STREAM_CONSUMER: opts.consumer } : {}),
            ...(opts.maxBatch ? { SLIPWAY_STREAM_MAX_BATCH: opts.maxBatch } : {}),
            ...(opts.maxWait ? { SLIPWAY_STREAM_MAX_WAIT_MS: opts.maxWait } : {}),
            ...(opts.maxDeliveries ? { SLIPWAY_STREAM_MAX_DELIVERIES: opts.maxDeliveries } : {}),
            ...(opts.ordered ? { SLIPWAY_STREAM_ORDERED: 'true' } : {}),
            ...(token && !env['SLIPWAY_WORKER_TOKEN'] ? { SLIPWAY_WORKER_TOKEN: token } : {}),
          });
        } else if (opts.mode === 'batch') {
          // The batch worker runs in the CLI process: `slipway batch worker` (see its --help for options).
          const bin = fileURLToPath(new URL('../bin.js', import.meta.url));
          process.exitCode = await runForeground(bin, ['batch', 'worker'], env, false);
          return;
        } else if (opts.mode !== 'online') {
          return usage(`--mode must be online, stream or batch, not "${opts.mode}"`);
        } else if (opts.models) {
          env['SLIPWAY_WORKER_MODELS'] = path.resolve(opts.models);
        }
        process.exitCode = await runForeground(entryOf('@slipway/worker'), [], env, true);
      },
    );

  program
    .command('train')
    .description('train a model and register it with its lineage (e.g. `slipway train demo --deploy fraud`)')
    .allowUnknownOption(true)
    .helpOption(false)
    .argument('[args...]')
    .action(async () => {
      // Everything after `train` belongs to the training tool, including options such as
      // --registry that the CLI also knows globally.
      const args = process.argv.slice(process.argv.indexOf('train') + 1);
      // The same credentials as every other command: SLIPWAY_TOKEN, else the data dir's admin token.
      const { token } = createCliContext({});
      const env = token ? { ...process.env, SLIPWAY_TOKEN: token } : process.env;
      process.exitCode = await runForeground(entryOf('@slipway/train'), args, env, false);
    });
}
