import { createHash, hash } from 'node:crypto';
import { canonicalJson } from '@slipway/features';

/**
 * The run id: 32 hex digits of the sha256 of everything that decides a run's output (input
 * content, model version, feature set, as-of and prediction time, column mapping). A resumed run
 * keeps it (from its checkpoint), and so writes the same request ids.
 */
export function runIdOf(parts: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex').slice(0, 32);
}

/** A row's request id: 32 hex digits of sha256(`<run id>:<row>`); the same on every attempt. */
export function requestIdOf(runId: string, row: number): string {
  // One-shot hash(): a third of createHash()'s cost, which showed in profiles at a row each.
  return hash('sha256', `${runId}:${row}`, 'hex').slice(0, 32);
}

/**
 * Whether a row's prediction goes to the monitor: its request id read as a fraction below
 * `rate`. Deterministic, so a resumed run samples the same rows (and the monitor, idempotent by
 * request id, keeps one record of each).
 */
export function isSampled(requestId: string, rate: number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  return Number.parseInt(requestId.slice(0, 8), 16) / 2 ** 32 < rate;
}

/** The fewest significant digits (at most 9, which always suffice) that read back as the same float32. */
export function formatFloat32(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  // Most float32 values need 8 or 9 digits: search down from 8 rather than up from 1.
  let shortest = Number(value.toPrecision(9));
  for (let digits = 8; digits >= 1; digits--) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) !== value) break;
    shortest = candidate;
  }
  return String(shortest);
}

/** A score as written: float32 outputs in their shortest exact form, others as JavaScript prints them. */
export function formatScore(value: number, float32: boolean): string {
  return float32 ? formatFloat32(value) : String(value);
}

/** A CSV field, quoted (RFC 4180) only when it holds a comma, quote or line break. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The output's header line for `scores` values per row (`score`, or `score_0` … `score_<n-1>`). */
export function outputHeader(scores: number): string {
  const names = scores === 1 ? ['score'] : Array.from({ length: scores }, (_, i) => `score_${i}`);
  return `id,request_id,model,version,${names.join(',')},predicted_at\n`;
}
