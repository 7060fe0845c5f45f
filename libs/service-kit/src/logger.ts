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
    options.destination,
  );
  if (fromEnv && !LEVELS.has(fromEnv) && options.level === undefined) {
    logger.warn(
      { SLIPWAY_LOG_LEVEL: fromEnv },
      `unknown log level; using info (one of ${[...LEVELS].join(', ')})`,
    );
  }
  return logger;
}
