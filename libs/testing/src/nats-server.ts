import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

/** A nats-server with JetStream that one test file started, on a free loopback port. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The JetStream store directory (removed by `stop`). */
  readonly storeDir: string;
  /**
   * Stops the server with `signal` (SIGKILL: a crash), waits `downMs`, and starts it again on the
   * same port with the same store: streams, consumers and messages come back.
   */
  restart(signal?: NodeJS.Signals, downMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; removes the store. Idempotent. */
  stop(): Promise<void>;
}

/** The nats-server binary: `$SLIPWAY_NATS_SERVER`, else `nats-server` on the PATH, else undefined. */
export function natsServerBinary(): string | undefined {
  const candidate = process.env['SLIPWAY_NATS_SERVER'] || 'nats-server';
  const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? candidate : undefined;
}

/**
 * True (with a warning saying how to install it) when no nats-server binary is available, for
 * `describe.skipIf(skipWithoutNats())`.
 */
export function skipWithoutNats(): boolean {
  if (natsServerBinary()) return false;
  console.warn(
    'nats-server not found: install it (Debian: `apt-get install nats-server`; or set SLIPWAY_NATS_SERVER to the binary); skipping the NATS JetStream tests',
  );
  return true;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts `nats-server -js` on a free 127.0.0.1 port with a fresh store directory and waits
 * until it accepts connections.
 *
 * @throws Error when the binary is missing or the server does not come up within 10 s.
 */
export async function startNatsServer(): Promise<NatsServer> {
  const binary = natsServerBinary();
  if (!binary) throw new Error('nats-server is not installed (Debian: apt-get install nats-server)');
  const storeDir = await mkdtemp(path.join(tmpdir(), 'slipway-nats-'));
  const port = await freePort();

  const launch = async (): Promise<{ child: ChildProcess; exited: Promise<void> }> => {
    const child = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (output.length < 20_000) output += chunk.toString('utf8');
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`nats-server did not start on port ${port}:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return { child, exited };
  };
  const terminate = async (run: { child: ChildProcess; exited: Promise<void> }, signal: NodeJS.Signals) => {
    if (run.child.exitCode !== null || run.child.signalCode !== null) return;
    run.child.kill(signal);
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 5_000);
    await run.exited;
    clearTimeout(timer);
  };

  let current: { child: ChildProcess; exited: Promise<void> };
  try {
    current = await launch();
  } catch (err) {
    await rm(storeDir, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return current.child.pid!;
    },
    storeDir,
    async restart(signal = 'SIGTERM', downMs = 0) {
      await terminate(current, signal);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      current = await launch();
    },
    stop() {
      stopped ??= (async () => {
        await terminate(current, 'SIGTERM');
        await rm(storeDir, { recursive: true, force: true, maxRetries: 3 });
      })();
      return stopped;
    },
  };
}
