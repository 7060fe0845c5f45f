/** Whole microseconds between two `performance.now()` readings (milliseconds). */
export function elapsedMicros(fromMs: number, toMs: number): number {
  return Math.round((toMs - fromMs) * 1000);
}
