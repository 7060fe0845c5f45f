import { InvalidArgumentError } from '@slipway/errors';

/** The time range an analysis covers: [fromMs, toMs). */
export interface TimeWindow {
  readonly fromMs: number;
  readonly toMs: number;
  readonly seconds: number;
}

/**
 * The window ending now: `seconds` long, or `defaultSeconds` when the request says 0.
 */
export function windowEndingAt(nowMs: number, seconds: number, defaultSeconds: number): TimeWindow {
  const length = seconds === 0 ? defaultSeconds : seconds;
  return { fromMs: nowMs - length * 1000, toMs: nowMs, seconds: length };
}

/** `3600` → `1h`, `90` → `90s`, `86400` → `1d`: how windows read in messages. */
export function formatSeconds(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** Fails with INVALID_ARGUMENT naming the RPC when a required name is empty. */
export function requireName(value: string, field: string, rpc: string): string {
  const name = value.trim();
  if (name === '') throw new InvalidArgumentError(`${rpc}: ${field} is required`);
  return name;
}
