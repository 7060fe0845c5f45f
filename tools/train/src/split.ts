import { FailedPreconditionError } from '@slipway/errors';
import { createSeededRandom } from '@slipway/onnx';

/** A train / holdout partition of row indices (each ascending, except time splits: in time order). */
export interface Split {
  readonly kind: 'time' | 'stratified';
  /** Requested holdout share. */
  readonly holdout: number;
  readonly train: Int32Array;
  readonly test: Int32Array;
  /** Time splits: the earliest holdout time; every training row is strictly earlier. */
  readonly cutoff?: Date;
  /** Stratified splits: the shuffle seed. */
  readonly seed?: number;
}

function checkFraction(holdout: number): void {
  if (!(holdout > 0 && holdout < 1)) throw new RangeError(`holdout must be in (0, 1), got ${holdout}`);
}

/**
 * Holds out the latest `holdout` share of rows by time. Rows sharing the cut-off time all go to
 * the holdout, so nothing in training is as late as anything evaluated. Ties order by index.
 */
export function timeSplit(epochMs: Float64Array, holdout: number): Split {
  checkFraction(holdout);
  const order = Int32Array.from({ length: epochMs.length }, (_, i) => i).sort(
    (a, b) => epochMs[a]! - epochMs[b]! || a - b,
  );
  let cut = Math.floor(order.length * (1 - holdout));
  while (cut > 0 && epochMs[order[cut - 1]!] === epochMs[order[cut]!]) cut--;
  if (cut === 0 || cut >= order.length) {
    throw new FailedPreconditionError(
      `a time split of ${order.length} rows with holdout ${holdout} leaves one side empty; use more rows or a different --holdout`,
    );
  }
  return {
    kind: 'time',
    holdout,
    train: order.slice(0, cut),
    test: order.slice(cut),
    cutoff: new Date(epochMs[order[cut]!]!),
  };
}

/**
 * Seeded stratified random split: within each class, a seeded shuffle puts
 * `round(classCount · holdout)` rows in the holdout, so both sides keep the class balance.
 */
export function stratifiedSplit(labels: ArrayLike<number>, holdout: number, seed: number): Split {
  checkFraction(holdout);
  const random = createSeededRandom(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (const cls of [0, 1]) {
    const members: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === cls) members.push(i);
    for (let k = members.length - 1; k > 0; k--) {
      const j = random.int(k + 1);
      [members[k], members[j]] = [members[j]!, members[k]!];
    }
    const n = Math.round(members.length * holdout);
    test.push(...members.slice(0, n));
    train.push(...members.slice(n));
  }
  return {
    kind: 'stratified',
    holdout,
    train: Int32Array.from(train).sort(),
    test: Int32Array.from(test).sort(),
    seed,
  };
}
