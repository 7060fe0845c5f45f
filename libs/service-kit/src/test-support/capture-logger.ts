import { createLogger, type Logger } from '../logger.js';

/** A logger whose JSON lines are kept in memory for assertions. */
export interface CapturedLogger {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
}

/** Creates a {@link CapturedLogger} at level `debug`. */
export function captureLogger(name = 'test'): CapturedLogger {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger(name, {
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}
