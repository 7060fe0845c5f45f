import type { FittedTransform } from './fitted.js';
import { binIndex } from './stats.js';

/**
 * The numeric transforms as one small interpreter shared by fit (to feed each fitted stage the
 * values the previous stages produce) and by compiled plans (to transform), so both compute
 * exactly the same float64 operations in the same order.
 */
const STANDARDIZE = 0;
const MIN_MAX = 1;
const LOG1P = 2;
const CLIP = 3;
const BUCKETIZE = 4;

/** A compiled numeric chain: op codes with two float64 parameters each, plus bucket boundaries. */
export interface NumericPlan {
  readonly codes: Uint8Array;
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly boundaries: readonly (Float64Array | undefined)[];
}

/** Compiles the numeric transforms of a fitted chain (impute is handled by the caller). */
export function numericPlan(transforms: readonly FittedTransform[]): NumericPlan {
  const ops = transforms.filter((t) => t.type !== 'impute');
  const codes = new Uint8Array(ops.length);
  const a = new Float64Array(ops.length);
  const b = new Float64Array(ops.length);
  const boundaries: (Float64Array | undefined)[] = [];
  ops.forEach((t, i) => {
    boundaries.push(undefined);
    switch (t.type) {
      case 'standardize':
        codes[i] = STANDARDIZE;
        a[i] = t.mean;
        b[i] = t.std > 0 ? t.std : 1;
        break;
      case 'min-max':
        codes[i] = MIN_MAX;
        a[i] = t.min;
        b[i] = t.max - t.min;
        break;
      case 'log1p':
        codes[i] = LOG1P;
        break;
      case 'clip':
        codes[i] = CLIP;
        a[i] = t.min ?? -Infinity;
        b[i] = t.max ?? Infinity;
        break;
      case 'bucketize':
        codes[i] = BUCKETIZE;
        boundaries[i] = Float64Array.from(t.boundaries);
        break;
      default:
        throw new Error(`${t.type} is not a numeric transform`);
    }
  });
  return { codes, a, b, boundaries };
}

/** Runs a plan on one float64 value. */
export function applyPlan(plan: NumericPlan, x: number): number {
  const { codes, a, b } = plan;
  for (let i = 0; i < codes.length; i++) {
    switch (codes[i]) {
      case STANDARDIZE:
        x = (x - a[i]!) / b[i]!;
        break;
      case MIN_MAX:
        x = b[i]! > 0 ? (x - a[i]!) / b[i]! : 0;
        break;
      case LOG1P:
        x = x >= 0 ? Math.log1p(x) : -Math.log1p(-x);
        break;
      case CLIP:
        x = x < a[i]! ? a[i]! : x > b[i]! ? b[i]! : x;
        break;
      default:
        x = binIndex(plan.boundaries[i]!, x);
    }
  }
  return x;
}
