import { SlipwayError } from '@slipway/errors';

/** A fault injected into one model version's requests. Test-only. */
export interface Fault {
  /** Share of requests answered with INTERNAL, 0..1. */
  readonly errorRate: number;
  /** Added to every request before it runs, in ms. */
  readonly delayMs: number;
}

/**
 * Parses `SLIPWAY_WORKER_TEST_FAULTS`: `model@version:error=0.2,delay=40;model@version:…`.
 * TEST-ONLY: it exists so end-to-end tests can make a canary fail or slow down on purpose; a
 * production worker never sets it (and logs a warning when it is set).
 *
 * @throws Error naming the part that does not parse.
 */
export function parseFaults(text: string | undefined): Map<string, Fault> {
  const faults = new Map<string, Fault>();
  if (!text) return faults;
  for (const part of text
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([^@:\s]+@\d+):(.+)$/.exec(part);
    if (!match) throw new Error(`fault "${part}" is not model@version:error=R,delay=MS`);
    let errorRate = 0;
    let delayMs = 0;
    for (const setting of match[2]!.split(',')) {
      const [key, value] = setting.split('=').map((s) => s.trim());
      const n = Number(value);
      if (key === 'error' && n >= 0 && n <= 1) errorRate = n;
      else if (key === 'delay' && n >= 0) delayMs = n;
      else throw new Error(`fault "${part}": "${setting}" is not error=0..1 or delay=ms`);
    }
    faults.set(match[1]!, { errorRate, delayMs });
  }
  return faults;
}

/** Applies a version's fault to one request: waits its delay, then fails its share. */
export async function applyFault(fault: Fault, key: string): Promise<void> {
  if (fault.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
  if (Math.random() < fault.errorRate) throw new SlipwayError(`injected test fault for ${key}`);
}
