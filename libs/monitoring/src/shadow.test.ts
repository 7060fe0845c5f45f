import { describe, expect, it } from 'vitest';
import { compareShadow } from './index.js';

describe('compareShadow', () => {
  it('measures class agreement, score differences and the top disagreements', () => {
    const report = compareShadow(
      [
        { primary: 0.9, shadow: 0.85, id: 'r1' },
        { primary: 0.2, shadow: 0.7, id: 'r2' }, // flips to positive, |d| = 0.5
        { primary: 0.55, shadow: 0.45, id: 'r3' }, // flips to negative, |d| = 0.1
        { primary: 0.1, shadow: 0.1, id: 'r4' },
        { primary: 0.6, shadow: 0.9, id: 'r5' }, // same class, |d| = 0.3
      ],
      { topK: 3 },
    );
    expect(report.count).toBe(5);
    expect(report.agreementRate).toBe(3 / 5);
    expect(report.meanAbsoluteDifference).toBeCloseTo((0.05 + 0.5 + 0.1 + 0 + 0.3) / 5, 12);
    expect(report.maxAbsoluteDifference).toBeCloseTo(0.5, 12);
    expect(report.topDisagreements.map((d) => d.id)).toEqual(['r2', 'r5', 'r3']);
    expect(report.topDisagreements[0]).toMatchObject({ index: 1, primaryClass: 0, shadowClass: 1 });
  });

  it('takes class vectors by argmax and breaks ties in |difference| by input order', () => {
    const report = compareShadow([
      { primary: [0.75, 0.25, 0], shadow: [0.25, 0.75, 0] },
      { primary: [0, 0.25, 0.75], shadow: [0, 0.75, 0.25] },
      { primary: [0.3, 0.3, 0.4], shadow: [0.3, 0.3, 0.4] },
    ]);
    expect(report.agreementRate).toBe(1 / 3);
    expect(report.topDisagreements.map((d) => [d.index, d.shadowClass])).toEqual([
      [0, 1],
      [1, 1],
    ]);
    expect(report.topDisagreements[0]!.absoluteDifference).toBe(0.5);
    // A threshold moves the class boundary of scores.
    expect(compareShadow([{ primary: 0.3, shadow: 0.4 }], { threshold: 0.35 }).agreementRate).toBe(0);
  });

  it('reports nulls for no pairs and refuses mismatched outputs', () => {
    expect(compareShadow([])).toEqual({
      count: 0,
      agreementRate: null,
      meanAbsoluteDifference: null,
      maxAbsoluteDifference: null,
      topDisagreements: [],
    });
    expect(() => compareShadow([{ primary: [0.1, 0.9], shadow: 0.5 }])).toThrow(
      /pair 0: primary has 2 outputs/,
    );
    expect(() => compareShadow([{ primary: NaN, shadow: 0.5 }])).toThrow(/NaN/);
  });
});
