/**
 * A seeded pseudo-random generator for tests: sfc32 (Chris Doty-Humphrey's small fast counting
 * generator, PractRand-clean) seeded through splitmix32, with normal, lognormal and Bernoulli
 * draws. Same seed, same numbers, on every platform.
 */
export interface Random {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal (Box–Muller). */
  normal(mean?: number, std?: number): number;
  lognormal(mu: number, sigma: number): number;
  /** Number of successes in `trials` draws with probability p. */
  binomial(trials: number, p: number): number;
  /** Integer in [0, n). */
  integer(n: number): number;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Creates a generator from a 32-bit seed. */
export function createRandom(seed: number): Random {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next();
  let spare: number | undefined;
  const uniform = (): number => next() / 4294967296;
  const random: Random = {
    uniform,
    normal(mean = 0, std = 1) {
      if (spare !== undefined) {
        const z = spare;
        spare = undefined;
        return mean + std * z;
      }
      let u = uniform();
      while (u === 0) u = uniform();
      const v = uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return mean + std * r * Math.cos(2 * Math.PI * v);
    },
    lognormal(mu, sigma) {
      return Math.exp(random.normal(mu, sigma));
    },
    binomial(trials, p) {
      let successes = 0;
      for (let i = 0; i < trials; i++) if (uniform() < p) successes++;
      return successes;
    },
    integer(n) {
      return Math.floor(uniform() * n);
    },
  };
  return random;
}
