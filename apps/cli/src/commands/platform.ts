import { spawn } from 'node:child_process';
import path from 'node:path';
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
    .action(
      async (opts: {
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
        });
      },
    );

  program
    .command('worker')
    .description('run an inference worker: from a local model repository (--models) or the registry')
    .option('--models <dir>', 'Triton-layout model repository: <name>/<version>/model.onnx')
    .allowUnknownOption(false)
    .action(async (opts: { models?: string }) => {
      const env = { ...process.env };
      if (opts.models) env['SLIPWAY_WORKER_MODELS'] = path.resolve(opts.models);
      process.exitCode = await runForeground(entryOf('@slipway/worker'), [], env, true);
    });

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
