import { writeSync } from 'node:fs';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level. Default: `SLIPWAY_LOG_LEVEL`, else `info`. */
  level?: LevelWithSilent;
  /** Where lines go. Default: stdout, written synchronously so no line is lost at exit. */
  destination?: DestinationStream;
  /** Environment to read `SLIPWAY_LOG_LEVEL` from. Default: `process.env`. */
  env?: Record<string, string | undefined>;
}

/** How often a line is tried again while its pipe is full (EAGAIN), 10 ms apart, before it is dropped. */
const FULL_PIPE_RETRIES = 100;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Standard output, written synchronously line by line (no line lost at exit). Unlike pino's
 * default sonic-boom destination, a broken pipe — the reader is gone, e.g. `slipway up` was
 * killed — ends logging instead of retrying the same line forever at full CPU (sonic-boom
 * 4.2's flushSync retries every error). Lines are dropped, the process carries on and can
 * shut down.
 */
export function stdoutDestination(fd = 1): DestinationStream {
  let broken = false;
  return {
    write(line: string) {
      if (broken) return;
      let buf = Buffer.from(line, 'utf8');
      for (let attempt = 0; buf.length > 0;) {
        try {
          buf = buf.subarray(writeSync(fd, buf));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN' && attempt++ < FULL_PIPE_RETRIES) {
            Atomics.wait(pause, 0, 0, 10);
            continue;
          }
          if (code !== 'EAGAIN') broken = true;
          return;
        }
      }
    },
  };
}

const LEVELS: ReadonlySet<string> = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * A pino JSON logger named `name`. Every line written while an OpenTelemetry span is active
 * carries that span's `trace_id` and `span_id`, so logs and traces join in Jaeger/Loki.
 */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const env = options.env ?? process.env;
  const fromEnv = env['SLIPWAY_LOG_LEVEL']?.trim().toLowerCase();
  const level = options.level ?? (fromEnv && LEVELS.has(fromEnv) ? (fromEnv as LevelWithSilent) : 'info');
  const logger = pino(
    {
      name,
      level,
      mixin() {
        const context = trace.getActiveSpan()?.spanContext();
        if (!context || !isSpanContextValid(context)) return {};
        return { trace_id: context.traceId, span_id: context.spanId };
      },
    },
    options.destination ?? stdoutDestination(),
  );
  if (fromEnv && !LEVELS.has(fromEnv) && options.level === undefined) {
    logger.warn(
      { SLIPWAY_LOG_LEVEL: fromEnv },
      `unknown log level; using info (one of ${[...LEVELS].join(', ')})`,
    );
  }
  return logger;
}
