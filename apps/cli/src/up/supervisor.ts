import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One supervised child process. */
export interface ChildSpec {
  /** Short name shown in front of its log lines: registry, worker-1, ... */
  readonly name: string;
  /** Absolute path of the built JS entry. */
  readonly entry: string;
  /** Environment added to the supervisor's own. */
  readonly env: Readonly<Record<string, string>>;
  /** Node options before the entry (e.g. the telemetry register hook). */
  readonly nodeArgs?: readonly string[];
  /**
   * The variable holding the child's listen address. A restarted child gets the address its
   * first run bound, so a child started on port 0 comes back where the others know to find it.
   */
  readonly addressEnv?: string;
  /**
   * For a child that listens on no address: the `msg` of the log line that says it is ready
   * (e.g. `stream worker consuming`). Default: ready once it logs `listening` with an address.
   */
  readonly readyMessage?: string;
}

/** A running child as the supervisor sees it. */
export interface SupervisedChild {
  readonly spec: ChildSpec;
  /** host:port from the child's `listening` log line, once it has one. */
  readonly address: string | undefined;
  readonly restarts: number;
}

/** Options of {@link createSupervisor}. */
export interface SupervisorOptions {
  /** Receives every child log line, already prefixed; default: stdout. */
  write?: (line: string) => void;
  /** Stop grace before SIGKILL. Default 10000. */
  stopTimeoutMs?: number;
}

/** Starts children, restarts those that crash (with backoff), stops them all in reverse order. */
export interface Supervisor {
  /** Starts a child and resolves once it logs `listening` (with its address) or its readyMessage. */
  start(spec: ChildSpec, readyTimeoutMs?: number): Promise<SupervisedChild>;
  readonly children: readonly SupervisedChild[];
  /** SIGTERM to every child in reverse start order, SIGKILL after the grace. Idempotent. */
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;
/** A child that ran this long before crashing is considered healthy again: backoff resets. */
const STABLE_MS = 60_000;

class Child implements SupervisedChild {
  address: string | undefined;
  restarts = 0;
  process: ChildProcess | undefined;
  startedAt = 0;
  stopping = false;
  onListening: ((address: string) => void) | undefined;
  constructor(readonly spec: ChildSpec) {}
}

/** Creates a {@link Supervisor}. */
export function createSupervisor(options: SupervisorOptions = {}): Supervisor {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const children: Child[] = [];
  let stopping: Promise<void> | undefined;

  const launch = (child: Child): void => {
    const rebind = child.spec.addressEnv && child.address ? { [child.spec.addressEnv]: child.address } : {};
    const proc = spawn(process.execPath, [...(child.spec.nodeArgs ?? []), child.spec.entry], {
      // Children stop on their own if this process dies without stopping them (see the service
      // kit's installSignalHandlers).
      env: { ...process.env, ...child.spec.env, ...rebind, SLIPWAY_SUPERVISOR_PID: String(process.pid) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.process = proc;
    child.startedAt = Date.now();
    const pad = child.spec.name.padEnd(10);
    for (const stream of [proc.stdout!, proc.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        const parsed = parseLogLine(line);
        if (parsed?.msg === 'listening' && typeof parsed.address === 'string') {
          child.address = parsed.address;
          if (!child.spec.readyMessage) child.onListening?.(parsed.address);
        }
        if (child.spec.readyMessage && parsed?.msg === child.spec.readyMessage) child.onListening?.('');
        write(`${pad} | ${parsed ? formatLogLine(parsed) : line}`);
      });
    }
    proc.on('exit', (code, signal) => {
      if (child.stopping || stopping) return;
      const ranFor = Date.now() - child.startedAt;
      if (ranFor > STABLE_MS) child.restarts = 0;
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** child.restarts);
      child.restarts++;
      write(`${pad} | exited (${signal ?? `code ${code}`}); restarting in ${Math.round(delay / 100) / 10}s`);
      setTimeout(() => {
        if (!stopping && !child.stopping) launch(child);
      }, delay).unref();
    });
  };

  return {
    get children() {
      return children;
    },
    start(spec, readyTimeoutMs = 30_000) {
      const child = new Child(spec);
      children.push(child);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `${spec.name} did not ${spec.readyMessage ? 'become ready' : 'start listening'} within ${readyTimeoutMs} ms (see its log above)`,
              ),
            ),
          readyTimeoutMs,
        );
        child.onListening = () => {
          clearTimeout(timer);
          child.onListening = undefined;
          resolve(child);
        };
        launch(child);
      });
    },
    stop() {
      stopping ??= (async () => {
        for (const child of [...children].reverse()) {
          child.stopping = true;
          const proc = child.process;
          if (!proc || proc.exitCode !== null || proc.signalCode !== null) continue;
          const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
          proc.kill('SIGTERM');
          const timer = setTimeout(() => proc.kill('SIGKILL'), stopTimeoutMs);
          await exited;
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
}

interface LogRecord {
  msg?: unknown;
  level?: unknown;
  address?: unknown;
  [key: string]: unknown;
}

function parseLogLine(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogRecord;
  } catch {
    return undefined;
  }
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const HIDDEN = new Set([
  'level',
  'time',
  'pid',
  'hostname',
  'msg',
  'name',
  'trace_id',
  'span_id',
  'trace_flags',
]);

/** A pino JSON line as `level msg key=value ...` for people watching `slipway up`. */
export function formatLogLine(record: LogRecord): string {
  const level = typeof record.level === 'number' ? (LEVELS[record.level] ?? String(record.level)) : '';
  const extras = Object.entries(record)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [level.padEnd(5), String(record.msg ?? ''), ...extras].join(' ').trimEnd();
}
