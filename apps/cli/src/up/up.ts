import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { registry } from '@slipway/contracts';
import { createClient } from '@slipway/service-kit';
import { spawn } from 'node:child_process';
import { entryOf, telemetryImport } from './entries.js';
import { createSupervisor } from './supervisor.js';

/** Options of `slipway up`. */
export interface UpOptions {
  dataDir: string;
  workers: number;
  registryAddress: string;
  firstWorkerPort: number;
  /** Feature service listen address (port 0: any free port). */
  featuresAddress: string;
  /** Monitor listen address (port 0: any free port). */
  monitorAddress: string;
  /** Router listen address (port 0: any free port). */
  routerAddress: string;
  /**
   * NATS server with JetStream. When set, a stream worker scores deployment `fraud`'s events
   * from `tx.events` to `tx.scored`.
   */
  natsUrl?: string;
}

/** Subjects of the demo stream worker `slipway up` starts when a NATS URL is configured. */
export const DEMO_STREAM = { input: 'tx.events', output: 'tx.scored' } as const;

/** Reads a secret file, creating it with a fresh random token (mode 0600) when absent. */
function ensureToken(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/**
 * Runs the platform on this machine as supervised child processes with an embedded data dir:
 * the registry, the feature service, the monitor, the workers, then the router. On first run it trains the demo fraud
 * model from the feature service's historical rows, registers its feature set there and the
 * model in the registry, and deploys it as deployment `fraud`. Ctrl-C stops everything cleanly.
 */
export async function up(options: UpOptions): Promise<void> {
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const adminToken = ensureToken(path.join(dataDir, 'admin.token'));
  const serviceToken = ensureToken(path.join(dataDir, 'service.token'));
  const nodeArgs = ['--import', telemetryImport()];
  const supervisor = createSupervisor();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stdout.write(`\n${signal}: stopping Slipway…\n`);
    await supervisor.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const registryChild = await supervisor.start({
    name: 'registry',
    addressEnv: 'SLIPWAY_REGISTRY_ADDR',
    entry: entryOf('@slipway/registry'),
    nodeArgs,
    env: {
      OTEL_SERVICE_NAME: process.env['OTEL_SERVICE_NAME'] || 'slipway-registry',
      SLIPWAY_REGISTRY_ADDR: options.registryAddress,
      SLIPWAY_REGISTRY_DATA_DIR: path.join(dataDir, 'registry'),
      SLIPWAY_REGISTRY_TOKENS: `${adminToken}=admin:admin,${serviceToken}=slipway:deployer`,
    },
  });
  const registryAddress = registryChild.address!;
  const featuresChild = await supervisor.start({
    name: 'features',
    addressEnv: 'SLIPWAY_FEATURES_ADDR',
    entry: entryOf('@slipway/feature-service'),
    nodeArgs,
    env: {
      OTEL_SERVICE_NAME: process.env['OTEL_SERVICE_NAME'] || 'slipway-features',
      SLIPWAY_FEATURES_ADDR: options.featuresAddress,
      SLIPWAY_FEATURES_DATA_DIR: path.join(dataDir, 'features'),
      SLIPWAY_FEATURES_TOKENS: `${adminToken}=admin:admin,${serviceToken}=slipway:deployer`,
    },
  });
  const featuresAddress = featuresChild.address!;
  const monitorChild = await supervisor.start({
    name: 'monitor',
    addressEnv: 'SLIPWAY_MONITOR_ADDR',
    entry: entryOf('@slipway/monitor'),
    nodeArgs,
    env: {
      OTEL_SERVICE_NAME: process.env['OTEL_SERVICE_NAME'] || 'slipway-monitor',
      SLIPWAY_MONITOR_ADDR: options.monitorAddress,
      SLIPWAY_MONITOR_DATA_DIR: path.join(dataDir, 'monitor'),
      SLIPWAY_MONITOR_TOKENS: `${adminToken}=admin:admin,${serviceToken}=slipway:deployer`,
      SLIPWAY_REGISTRY_ADDR: registryAddress,
      SLIPWAY_MONITOR_TOKEN: serviceToken,
    },
  });
  const monitorAddress = monitorChild.address!;
  const workerAddresses: string[] = [];
  for (let i = 0; i < options.workers; i++) {
    const child = await supervisor.start({
      name: `worker-${i + 1}`,
      addressEnv: 'SLIPWAY_WORKER_ADDR',
      entry: entryOf('@slipway/worker'),
      nodeArgs,
      env: {
        OTEL_SERVICE_NAME: process.env['OTEL_SERVICE_NAME'] || 'slipway-worker',
        SLIPWAY_WORKER_ADDR: `127.0.0.1:${options.firstWorkerPort === 0 ? 0 : options.firstWorkerPort + i}`,
        SLIPWAY_WORKER_ID: `worker-${i + 1}`,
        SLIPWAY_WORKER_DATA_DIR: path.join(dataDir, `worker-${i + 1}`),
        SLIPWAY_REGISTRY_ADDR: registryAddress,
        SLIPWAY_WORKER_TOKEN: serviceToken,
      },
    });
    workerAddresses.push(child.address!);
  }

  await ensureDemoDeployment(registryAddress, featuresAddress, adminToken);

  const routerChild = await supervisor.start({
    name: 'router',
    addressEnv: 'SLIPWAY_ROUTER_ADDR',
    entry: entryOf('@slipway/router'),
    nodeArgs,
    env: {
      OTEL_SERVICE_NAME: process.env['OTEL_SERVICE_NAME'] || 'slipway-router',
      SLIPWAY_ROUTER_ADDR: options.routerAddress,
      SLIPWAY_ROUTER_ID: 'router-1',
      SLIPWAY_ROUTER_DATA_DIR: path.join(dataDir, 'router'),
      SLIPWAY_ROUTER_TOKEN: serviceToken,
      SLIPWAY_REGISTRY_ADDR: registryAddress,
      SLIPWAY_FEATURES_ADDR: featuresAddress,
      SLIPWAY_MONITOR_ADDR: monitorAddress,
    },
  });
  const routerAddress = routerChild.address!;

  if (options.natsUrl) {
    await supervisor.start(
      {
        name: 'stream-1',
        entry: entryOf('@slipway/worker'),
        nodeArgs,
        readyMessage: 'stream worker consuming',
        env: {
          OTEL_SERVICE_NAME: process.env['OTEL_SERVICE_NAME'] || 'slipway-stream-worker',
          SLIPWAY_WORKER_MODE: 'stream',
          SLIPWAY_WORKER_ID: 'stream-1',
          SLIPWAY_NATS_URL: options.natsUrl,
          SLIPWAY_STREAM_DEPLOYMENT: 'fraud',
          SLIPWAY_STREAM_INPUT_SUBJECT: DEMO_STREAM.input,
          SLIPWAY_STREAM_OUTPUT_SUBJECT: DEMO_STREAM.output,
          SLIPWAY_WORKER_DATA_DIR: path.join(dataDir, 'stream-1'),
          SLIPWAY_REGISTRY_ADDR: registryAddress,
          SLIPWAY_FEATURES_ADDR: featuresAddress,
          SLIPWAY_MONITOR_ADDR: monitorAddress,
          SLIPWAY_WORKER_TOKEN: serviceToken,
        },
      },
      60_000,
    );
  }

  const cliEnv = [
    `SLIPWAY_DATA_DIR=${dataDir}`,
    ...(registryAddress === '127.0.0.1:7001' ? [] : [`SLIPWAY_REGISTRY_ADDR=${registryAddress}`]),
    ...(routerAddress === '127.0.0.1:8001' ? [] : [`SLIPWAY_ROUTER_ADDR=${routerAddress}`]),
  ].join(' ');
  process.stdout.write(
    [
      '',
      'Slipway is up.',
      `  router     ${routerAddress}   (Predict and Open Inference Protocol: deployment "fraud")`,
      `  registry   ${registryAddress}`,
      `  features   ${featuresAddress}   (feature service: demo_transactions@1)`,
      `  monitor    ${monitorAddress}`,
      ...workerAddresses.map((a, i) => `  worker-${i + 1}   ${a}   (Open Inference Protocol: model "fraud")`),
      ...(options.natsUrl
        ? [
            `  stream-1   ${options.natsUrl}   (events on ${DEMO_STREAM.input} → predictions on ${DEMO_STREAM.output})`,
          ]
        : []),
      `  data dir   ${dataDir}   (admin token in admin.token)`,
      '',
      'Try, in another shell:',
      `  ${cliEnv} npx slipway predict fraud --entity userId=u42 --value amount=31.5`,
      `  ${cliEnv} npx slipway status fraud`,
      `  ${cliEnv} npx slipway model show fraud`,
      `  ${cliEnv} npx slipway audit log`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  await new Promise(() => undefined);
}

/**
 * First run: train the demo model on historical rows from the feature service, register its
 * feature set there and the model in the registry, and deploy it as `fraud`.
 */
async function ensureDemoDeployment(
  registryAddress: string,
  featuresAddress: string,
  token: string,
): Promise<void> {
  const deployments = createClient(registry.DeploymentServiceService, registryAddress, { token });
  try {
    const { deployments: existing } = await deployments.listDeployments({});
    if (existing.some((d) => d.name === 'fraud')) return;
  } finally {
    deployments.close();
  }
  process.stdout.write('first run: training the demo fraud model on generated data…\n');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        entryOf('@slipway/train'),
        'demo',
        '--registry',
        registryAddress,
        '--model',
        'fraud',
        '--deploy',
        'fraud',
        '--features',
        featuresAddress,
      ],
      { env: { ...process.env, SLIPWAY_TOKEN: token }, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`demo training failed (exit ${code})`)),
    );
  });
}
