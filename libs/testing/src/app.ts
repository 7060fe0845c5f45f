import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeEach, onTestFailed, TestRunner } from 'vitest';
import { repoRoot } from './build.js';
import { createHealthClient } from './health-client.js';

/** How to start an app process. */
export interface StartAppOptions {
  /** Shown in failure output and leak reports. */
  readonly name: string;
  /** Absolute path of the built JS entry (e.g. `apps/registry/dist/main.js`). */
  readonly entry: string;
  /**
   * Variables added to the inherited environment; `undefined` removes one. `OTEL_*` and
   * `SLIPWAY_*` variables of the test process are not inherited, so a developer's shell cannot
   * change what a test sees.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Arguments after the entry. */
  readonly args?: readonly string[];
  /** Node options before the entry, e.g. `['--enable-source-maps']`. */
  readonly nodeArgs?: readonly string[];
  /** Working directory; default the test process's. */
  readonly cwd?: string;
  /** Limit for the whole start (listening line + SERVING). Default 20000. */
  readonly readyTimeoutMs?: number;
  /** Start with `--import @slipway/telemetry/register` (needs libs/telemetry built). Default true. */
  readonly telemetry?: boolean;
  /**
   * `healthy` (default): wait for the `listening` log line and `grpc.health.v1.Health/Check`
   * SERVING. `spawned`: return once the process runs (for clients and one-shot commands; no address).
   */
  readonly waitUntil?: 'healthy' | 'spawned';
  /**
   * Variable that receives the bound address on {@link RunningApp.restart}, e.g.
   * `SLIPWAY_REGISTRY_ADDR`, so an app started on port 0 comes back on the same port.
   */
  readonly addressEnv?: string;
}

/** How a process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** How {@link RunningApp.stop} ended the process. */
export interface StopResult extends ExitInfo {
  /** True when the process ignored the signal and was SIGKILLed after the timeout. */
  readonly timedOut: boolean;
}

/** One output line; `json` is set when the line is a JSON object (pino logs). */
export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  readonly json?: Readonly<Record<string, unknown>>;
}

/** A child process started by {@link startApp}. */
export interface RunningApp {
  readonly name: string;
  /** `host:port` from the app's `listening` log line ('' with `waitUntil: 'spawned'`). */
  readonly address: string;
  readonly pid: number;
  /** False once the process has exited. */
  readonly running: boolean;
  /** Every output line (stdout and stderr, in arrival order) of every run of this app. */
  logs(): string[];
  /** Resolves with the first line of the current run matching `predicate`; default timeout 10000. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves when the process exits on its own; rejects after `timeoutMs` (default 10000). */
  waitForExit(timeoutMs?: number): Promise<ExitInfo>;
  /** Sends `signal` (default SIGTERM); SIGKILLs after `timeoutMs` (default 10000) and says so. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<StopResult>;
  /** SIGKILL, for crash tests. */
  kill(): Promise<ExitInfo>;
  /** Stops the app if it runs, then starts it again with the same options and address. */
  restart(): Promise<void>;
}

const logLimit = 20_000;
const failureTail = 100;

interface Run {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  exit?: ExitInfo;
  /** Position of this run's first line, counting lines dropped from the log. */
  readonly firstLine: number;
}

interface Tracked {
  readonly app: AppHandle;
  /** Test that started the app; undefined when started in a suite hook. */
  readonly testId: string | undefined;
}

const tracked = new Set<Tracked>();

// A test process that dies must not leave apps holding ports.
process.once('exit', () => {
  for (const { app } of tracked) app.killNow();
});

function inheritedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('OTEL_') && !key.startsWith('SLIPWAY_')) env[key] = value;
  }
  return env;
}

/**
 * URL of the built `@slipway/telemetry/register` (its "default" export, in dist/), as the child's
 * Node resolves it. Not resolved from here: vitest runs with the "@slipway/source" condition.
 */
export function telemetryRegisterUrl(): string {
  const packageDir = path.join(repoRoot, 'node_modules', '@slipway', 'telemetry');
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
    exports: Record<string, { default: string }>;
  };
  const file = path.resolve(packageDir, manifest.exports['./register']!.default);
  if (!existsSync(file)) {
    throw new Error(
      `${file} is missing: build it first (npx tsc -b libs/telemetry, or ensureBuilt('libs/telemetry'))`,
    );
  }
  return pathToFileURL(file).href;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function describeExit({ code, signal }: ExitInfo): string {
  return signal ? `killed by ${signal}` : `exited with code ${code}`;
}

class AppHandle implements RunningApp {
  readonly name: string;
  #options: StartAppOptions;
  #lines: LogLine[] = [];
  #dropped = 0;
  #listeners = new Set<() => void>();
  #run: Run | undefined;
  #address = '';

  constructor(options: StartAppOptions) {
    this.name = options.name;
    this.#options = options;
  }

  get address(): string {
    return this.#address;
  }

  get pid(): number {
    return this.#run?.child.pid ?? -1;
  }

  get running(): boolean {
    return this.#run !== undefined && this.#run.exit === undefined;
  }

  logs(): string[] {
    return this.#lines.map((line) => line.text);
  }

  /** The last `count` lines, with a header, for failure output. */
  tail(count = failureTail): string {
    const lines = this.logs().slice(-count);
    const total = this.#lines.length + this.#dropped;
    const state = this.running ? 'running' : this.#run?.exit ? describeExit(this.#run.exit) : 'not started';
    return [
      `──── ${this.name} (pid ${this.pid}, ${state}): last ${lines.length} of ${total} log lines ────`,
      ...lines,
    ].join('\n');
  }

  async start(): Promise<void> {
    const options = this.#options;
    // An app outlives a test process that dies (a killed run, a crashed worker) only until it
    // notices its parent is gone (the service kit's installSignalHandlers).
    const env: Record<string, string | undefined> = {
      ...inheritedEnv(),
      SLIPWAY_SUPERVISOR_PID: String(process.pid),
    };
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    if (options.addressEnv && this.#address) env[options.addressEnv] = this.#address;
    const nodeArgs = [
      ...(options.telemetry === false ? [] : ['--import', telemetryRegisterUrl()]),
      ...(options.nodeArgs ?? []),
    ];
    const child = spawn(process.execPath, [...nodeArgs, options.entry, ...(options.args ?? [])], {
      cwd: options.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: Run = {
      child,
      firstLine: this.#lines.length + this.#dropped,
      exited: new Promise<ExitInfo>((resolve) => {
        child.once('exit', (code, signal) => {
          run.exit = { code, signal };
          resolve(run.exit);
          this.#notify();
        });
      }),
    };
    this.#run = run;
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream]!, crlfDelay: Infinity }).on('line', (text) =>
        this.#push(stream, text),
      );
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    if (options.waitUntil === 'spawned') return;

    const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
    try {
      const listening = await this.waitForLog(
        (line) => line.json?.['msg'] === 'listening' && typeof line.json['address'] === 'string',
        deadline - Date.now(),
      );
      const address = listening.json!['address'] as string;
      if (options.addressEnv && this.#address && address !== this.#address) {
        throw new Error(`came back on ${address} instead of ${this.#address}`);
      }
      this.#address = address;
      await this.#waitServing(deadline);
    } catch (error) {
      child.kill('SIGKILL');
      await run.exited;
      throw new Error(
        `app "${this.name}" did not become ready: ${(error as Error).message}\n${this.tail(50)}`,
        {
          cause: error,
        },
      );
    }
  }

  async #waitServing(deadline: number): Promise<void> {
    const health = createHealthClient(this.#address);
    let last = 'no answer';
    try {
      while (Date.now() < deadline) {
        if (!this.running) throw new Error(describeExit(this.#run!.exit!));
        try {
          const status = await health.check('', Math.min(1000, Math.max(deadline - Date.now(), 1)));
          if (status === 'SERVING') return;
          last = status;
        } catch (error) {
          last = (error as Error).message;
        }
        await sleep(100);
      }
      throw new Error(
        `grpc.health.v1.Health/Check on ${this.#address} did not answer SERVING (last: ${last})`,
      );
    } finally {
      health.close();
    }
  }

  #push(stream: 'stdout' | 'stderr', text: string): void {
    const json = parseJson(text);
    this.#lines.push(json ? { stream, text, json } : { stream, text });
    if (this.#lines.length > logLimit) {
      // Keep the newest lines; run positions count dropped lines, so they stay valid.
      this.#lines.shift();
      this.#dropped++;
    }
    this.#notify();
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }

  #until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        let value: T | undefined;
        try {
          value = probe();
        } catch (error) {
          done();
          reject(error as Error);
          return;
        }
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const timer = setTimeout(
        () => {
          done();
          reject(new Error(`app "${this.name}": ${what} within ${timeoutMs} ms`));
        },
        Math.max(timeoutMs, 0),
      );
      const done = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }

  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const run = this.#run;
    if (!run) return Promise.reject(new Error(`app "${this.name}" is not started`));
    return this.#until(
      () => {
        const start = Math.max(run.firstLine - this.#dropped, 0);
        const match = this.#lines.slice(start).find(predicate);
        if (match) return match;
        if (run.exit)
          throw new Error(`app "${this.name}" ${describeExit(run.exit)} before the expected log line`);
        return undefined;
      },
      timeoutMs,
      'no matching log line',
    );
  }

  waitForExit(timeoutMs = 10_000): Promise<ExitInfo> {
    const run = this.#run;
    if (!run) return Promise.reject(new Error(`app "${this.name}" is not started`));
    return this.#until(() => run.exit, timeoutMs, 'did not exit');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<StopResult> {
    const run = this.#run;
    if (!run) throw new Error(`app "${this.name}" is not started`);
    if (run.exit) return { ...run.exit, timedOut: false };
    run.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      run.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      console.warn(
        `app "${this.name}" (pid ${this.pid}) ignored ${signal} for ${timeoutMs} ms; sending SIGKILL`,
      );
      run.child.kill('SIGKILL');
    }
    return { ...(await run.exited), timedOut };
  }

  async kill(): Promise<ExitInfo> {
    const run = this.#run;
    if (!run) throw new Error(`app "${this.name}" is not started`);
    if (!run.exit) run.child.kill('SIGKILL');
    return run.exited;
  }

  /** Synchronous SIGKILL, for process exit and leak clean-up. */
  killNow(): void {
    if (this.running) this.#run!.child.kill('SIGKILL');
  }

  async restart(): Promise<void> {
    if (this.running) await this.stop();
    this.#push('stderr', `[@slipway/testing] restarting "${this.name}"`);
    await this.start();
  }
}

/**
 * Starts `node [--import @slipway/telemetry/register] entry ...args` and waits until it is ready:
 * its `{"msg":"listening","address":...}` log line, then `Health/Check` SERVING. Start apps on
 * port 0; the bound address comes from that line. Inside a test, a failure prints the app's last
 * log lines; call {@link useAppHarness} once per file for leak checks.
 */
export async function startApp(options: StartAppOptions): Promise<RunningApp> {
  const app = new AppHandle(options);
  const test = TestRunner.getCurrentTest();
  const entry: Tracked = { app, testId: test?.id };
  if (test) onTestFailed(() => console.error(app.tail()));
  tracked.add(entry);
  try {
    await app.start();
  } catch (error) {
    tracked.delete(entry);
    throw error;
  }
  return app;
}

async function killLeaks(leaks: Tracked[]): Promise<void> {
  if (leaks.length === 0) return;
  await Promise.all(leaks.map(({ app }) => app.kill()));
  for (const leak of leaks) tracked.delete(leak);
  const names = leaks.map(({ app }) => `"${app.name}" (pid ${app.pid})`).join(', ');
  throw new Error(
    `apps still running, killed by the harness: ${names}. Stop every app you start (app.stop()).`,
  );
}

/**
 * Installs the harness's hooks in the current file or `describe`: when a test fails, the last
 * lines of every app started by a suite hook (beforeAll) are printed (apps started inside the
 * test print their own); after each test, apps that test started must have been stopped; after
 * all tests, every app must have been stopped. Leaked apps are killed and the test fails.
 */
export function useAppHarness(): void {
  // Hooks destructure their context: vitest parses it to resolve fixtures of `test.extend` tests.
  beforeEach(({ onTestFailed: onThisTestFailed }) => {
    onThisTestFailed(() => {
      for (const { app, testId } of tracked) if (testId === undefined) console.error(app.tail());
    });
  });
  afterEach(async ({ task }) => {
    const mine = [...tracked].filter((t) => t.testId === task.id);
    for (const t of mine) if (!t.app.running) tracked.delete(t);
    await killLeaks(mine.filter((t) => t.app.running));
  });
  afterAll(async () => {
    for (const t of tracked) if (!t.app.running) tracked.delete(t);
    await killLeaks([...tracked]);
  });
}

/** Apps started by this test process that are still running (for custom leak checks). */
export function runningApps(): RunningApp[] {
  return [...tracked].map((t) => t.app).filter((app) => app.running);
}
