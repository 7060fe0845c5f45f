import { registry } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import { describe, expect, it } from 'vitest';
import { assignmentBucket, chooseVariant, shadowsFor, variantForVersion } from './select.js';

const { VariantRole: R, StrategyKind: K } = registry;

function variant(name: string, version: number, role: registry.VariantRole, weight: number, sampleRate = 0) {
  return { name, model: 'fraud', version, role, weight, sampleRate };
}

function deployment(variants: registry.Variant[], strategy?: registry.Strategy): registry.Deployment {
  return {
    name: 'fraud',
    revision: 1n,
    variants,
    strategy: strategy ?? { kind: K.STRATEGY_KIND_DIRECT, canary: undefined, experiment: undefined },
    description: '',
    decisionThreshold: 0.5,
    updatedAt: undefined,
    updatedBy: '',
  };
}

/** A deterministic uniform sequence (LCG), so shares are reproducible. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
}

const allReady = { lookup: () => undefined, isReady: () => true };

describe('chooseVariant', () => {
  it('honours canary weights within a fraction of a point over 10,000 requests', () => {
    const d = deployment([
      variant('stable', 7, R.VARIANT_ROLE_STABLE, 95),
      variant('candidate', 8, R.VARIANT_ROLE_CANDIDATE, 5),
    ]);
    const random = seeded(42);
    let candidate = 0;
    for (let i = 0; i < 10_000; i++)
      if (chooseVariant(d, { ...allReady, random })!.variant.name === 'candidate') candidate++;
    expect(Math.abs(candidate / 100 - 5)).toBeLessThan(1);
  });

  it('sends a not-ready candidate’s share to the stable, and a not-ready stable’s to the previous version', () => {
    const canary = deployment([
      variant('stable', 7, R.VARIANT_ROLE_STABLE, 50),
      variant('candidate', 8, R.VARIANT_ROLE_CANDIDATE, 50),
    ]);
    const notEight = { lookup: () => undefined, isReady: (v: registry.Variant) => v.version !== 8 };
    for (let i = 0; i < 50; i++) expect(chooseVariant(canary, notEight)!.variant.version).toBe(7);
    const direct = deployment([
      variant('stable', 8, R.VARIANT_ROLE_STABLE, 100),
      variant('previous', 7, R.VARIANT_ROLE_PREVIOUS, 0),
    ]);
    expect(chooseVariant(direct, notEight)!.variant.name).toBe('previous');
    expect(chooseVariant(direct, allReady)!.variant.name).toBe('stable');
    // Nothing ready: the chosen variant is returned and the caller answers UNAVAILABLE.
    expect(chooseVariant(direct, { lookup: () => undefined, isReady: () => false })!.variant.name).toBe(
      'stable',
    );
  });

  it('assigns experiment arms by hash(salt, unit): sticky, salt-dependent, and shares follow the weights', () => {
    const strategy = {
      kind: K.STRATEGY_KIND_EXPERIMENT,
      canary: undefined,
      experiment: { name: 'checkout-ab', salt: 'salt-1', unitKey: 'user_id' },
    };
    const d = deployment(
      [variant('control', 7, R.VARIANT_ROLE_ARM, 50), variant('treatment', 8, R.VARIANT_ROLE_ARM, 50)],
      strategy,
    );
    const armOf = (unit: string, dep = d) =>
      chooseVariant(dep, { lookup: (k) => (k === 'user_id' ? unit : undefined), isReady: () => true })!;
    let treatment = 0;
    for (let i = 0; i < 10_000; i++) {
      const choice = armOf(`u${i}`);
      expect(choice.experiment).toBe('checkout-ab');
      expect(choice.unit).toBe(`u${i}`);
      if (choice.variant.name === 'treatment') treatment++;
    }
    expect(Math.abs(treatment / 100 - 50)).toBeLessThan(2);
    expect(armOf('u42').variant.name).toBe(armOf('u42').variant.name);
    // Another salt reshuffles units.
    const other = deployment(d.variants, {
      ...strategy,
      experiment: { ...strategy.experiment, salt: 'salt-2' },
    });
    let moved = 0;
    for (let i = 0; i < 1000; i++)
      if (armOf(`u${i}`).variant.name !== armOf(`u${i}`, other).variant.name) moved++;
    expect(moved).toBeGreaterThan(350);
    expect(() => chooseVariant(d, allReady)).toThrow(InvalidArgumentError);
  });

  it('pins versions, samples shadows by their rate, and has no choice without live variants', () => {
    const d = deployment([
      variant('stable', 7, R.VARIANT_ROLE_STABLE, 100),
      variant('shadow', 8, R.VARIANT_ROLE_SHADOW, 0, 0.25),
    ]);
    expect(variantForVersion(d, 8)!.name).toBe('shadow');
    expect(variantForVersion(d, 9)).toBeUndefined();
    const random = seeded(7);
    let mirrored = 0;
    for (let i = 0; i < 10_000; i++) mirrored += shadowsFor(d, random).length;
    expect(Math.abs(mirrored / 100 - 25)).toBeLessThan(2);
    expect(chooseVariant(deployment([]), allReady)).toBeUndefined();
  });

  it('buckets are uniform in [0, 10000)', () => {
    const seen = new Array(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const b = assignmentBucket('s', `unit-${i}`);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(10_000);
      seen[Math.floor(b / 1000)]++;
    }
    for (const n of seen) expect(Math.abs(n - 2000)).toBeLessThan(200);
  });
});
