import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adjustPValues, benjaminiHochberg, bonferroni } from './index.js';

/** Seeded so a failure reproduces; fast-check prints the counterexample and path. */
const RUNS = { seed: 0xb4, numRuns: 200 } as const;

describe('multiple-testing corrections', () => {
  it('Benjamini–Hochberg matches a hand computation', () => {
    // Sorted p: 0.01, 0.02, 0.03, 0.04, 0.2 with m = 5 → m·p/rank = 0.05, 0.05, 0.05, 0.05, 0.2,
    // then the running minimum from the largest rank down; back in input order.
    const adjusted = benjaminiHochberg([0.04, 0.01, 0.2, 0.03, 0.02]);
    expect(adjusted.map((p) => Number(p.toFixed(12)))).toEqual([0.05, 0.05, 0.2, 0.05, 0.05]);
    expect(benjaminiHochberg([0.001, 0.9, 0.04])).toEqual([0.003, 0.9, 0.06]);
    expect(bonferroni([0.01, 0.3])).toEqual([0.02, 0.6]);
    expect(adjustPValues([0.01, 0.3], 'none')).toEqual([0.01, 0.3]);
    expect(benjaminiHochberg([])).toEqual([]);
    expect(() => bonferroni([1.2])).toThrow(/\[0, 1\]/);
  });

  it('Benjamini–Hochberg never lowers a p-value, keeps their order and is never above Bonferroni', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }), (pValues) => {
        const bh = benjaminiHochberg(pValues);
        const bf = bonferroni(pValues);
        pValues.forEach((p, i) => {
          expect(bh[i]!).toBeGreaterThanOrEqual(p);
          expect(bh[i]!).toBeLessThanOrEqual(bf[i]! + 1e-12);
          pValues.forEach((q, j) => {
            if (p < q) expect(bh[i]!).toBeLessThanOrEqual(bh[j]!);
          });
        });
      }),
      RUNS,
    );
  });
});
