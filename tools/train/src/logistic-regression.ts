/** A fitted binary logistic regression on raw (unscaled) inputs: p = sigmoid(x · weights + bias). */
export interface LogisticModel {
  weights: Float64Array;
  bias: number;
  /** Standardisation learned at fit time, already folded into weights and bias. */
  means: Float64Array;
  stds: Float64Array;
  iterations: number;
}

/** Options of {@link fitLogisticRegression}. */
export interface FitOptions {
  /** L2 penalty on standardised weights. Default 1e-3. */
  l2?: number;
  /** Newton iterations at most. Default 50. */
  maxIterations?: number;
  /** Stop when the largest weight step is below this. Default 1e-10. */
  tolerance?: number;
}

/**
 * Fits by Newton's method (IRLS) on standardised features, then folds the standardisation into
 * the weights so the exported model reads raw values. Deterministic: no randomness, fixed order.
 */
export function fitLogisticRegression(
  x: Float64Array[],
  y: ArrayLike<number>,
  options: FitOptions = {},
): LogisticModel {
  const n = x.length;
  const d = x[0]?.length ?? 0;
  if (n === 0 || d === 0) throw new Error('logistic regression needs at least one row and one feature');
  const l2 = options.l2 ?? 1e-3;
  const means = new Float64Array(d);
  const stds = new Float64Array(d);
  for (const row of x) for (let j = 0; j < d; j++) means[j] += row[j]! / n;
  for (const row of x) for (let j = 0; j < d; j++) stds[j] += (row[j]! - means[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) stds[j] = Math.sqrt(stds[j]!) || 1;
  const z = x.map((row) => Float64Array.from(row, (v, j) => (v - means[j]!) / stds[j]!));

  // Parameters: [w_0..w_{d-1}, b].
  const p = d + 1;
  const theta = new Float64Array(p);
  let iterations = 0;
  for (; iterations < (options.maxIterations ?? 50); iterations++) {
    const grad = new Float64Array(p);
    const hess = Array.from({ length: p }, () => new Float64Array(p));
    for (let i = 0; i < n; i++) {
      const row = z[i]!;
      let eta = theta[d]!;
      for (let j = 0; j < d; j++) eta += row[j]! * theta[j]!;
      const mu = 1 / (1 + Math.exp(-eta));
      const r = mu - y[i]!;
      const w = Math.max(mu * (1 - mu), 1e-12);
      for (let a = 0; a < p; a++) {
        const xa = a < d ? row[a]! : 1;
        grad[a] += r * xa;
        for (let b = a; b < p; b++) hess[a]![b] += w * xa * (b < d ? row[b]! : 1);
      }
    }
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < a; b++) hess[a]![b] = hess[b]![a]!;
      if (a < d) {
        grad[a] += l2 * n * theta[a]!;
        hess[a]![a] += l2 * n;
      }
    }
    const step = solve(hess, grad);
    let largest = 0;
    for (let a = 0; a < p; a++) {
      theta[a] -= step[a]!;
      largest = Math.max(largest, Math.abs(step[a]!));
    }
    if (largest < (options.tolerance ?? 1e-10)) {
      iterations++;
      break;
    }
  }
  const weights = new Float64Array(d);
  let bias = theta[d]!;
  for (let j = 0; j < d; j++) {
    weights[j] = theta[j]! / stds[j]!;
    bias -= (theta[j]! * means[j]!) / stds[j]!;
  }
  return { weights, bias, means, stds, iterations };
}

/** Probabilities of the fitted model, in float64. */
export function predictProbabilities(model: LogisticModel, x: Float64Array[]): Float64Array {
  return Float64Array.from(x, (row) => {
    let eta = model.bias;
    for (let j = 0; j < row.length; j++) eta += row[j]! * model.weights[j]!;
    return 1 / (1 + Math.exp(-eta));
  });
}

/** Solves A s = g for symmetric positive-definite A by Gaussian elimination with pivoting. */
function solve(a: Float64Array[], g: Float64Array): Float64Array {
  const n = g.length;
  const m = a.map((row, i) => [...row, g[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const div = m[col]![col]!;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / div;
      if (f === 0) continue;
      for (let c = col; c <= n; c++) m[r]![c] -= f * m[col]![c]!;
    }
  }
  return Float64Array.from({ length: n }, (_, i) => m[i]![n]! / m[i]![i]!);
}
