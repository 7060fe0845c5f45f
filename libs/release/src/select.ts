import { createHash } from 'node:crypto';
import { registry } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';

const { VariantRole, StrategyKind } = registry;

/** Where one request goes: the variant that answers, and the experiment it was assigned by. */
export interface VariantChoice {
  readonly variant: registry.Variant;
  /** The experiment's name when an A/B experiment assigned the variant. */
  readonly experiment?: string;
  /** The unit's key value the assignment hashed (e.g. "u42"). */
  readonly unit?: string;
}

/** What {@link chooseVariant} needs to know about the request and the replicas. */
export interface ChoiceInputs {
  /**
   * The value of a request key by name (entity keys first, then request-time values). Used for
   * the experiment's unit key.
   */
  readonly lookup: (key: string) => string | undefined;
  /** Whether at least one replica has this variant's version ready. */
  readonly isReady: (variant: registry.Variant) => boolean;
  /** Uniform in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

/**
 * The bucket of a unit in an experiment, in [0, 10000): the first 32 bits of
 * sha256(salt + ":" + unit) scaled. Deterministic, so a unit gets the same arm on every router
 * replica and across restarts, and uniform, so arm shares follow the weights.
 */
export function assignmentBucket(salt: string, unit: string): number {
  const digest = createHash('sha256').update(salt).update(':').update(unit).digest();
  return Math.floor((digest.readUInt32BE(0) / 0x1_0000_0000) * 10_000);
}

/** The variant whose cumulative weight (in percent) covers `bucket` (basis points). */
function byBucket(live: readonly registry.Variant[], bucket: number): registry.Variant | undefined {
  let cumulative = 0;
  for (const variant of live) {
    cumulative += variant.weight * 100;
    if (bucket < cumulative) return variant;
  }
  return live[live.length - 1];
}

/** Variants that take live traffic: stable, candidate and arms with a weight above zero. */
export function liveVariants(deployment: registry.Deployment): registry.Variant[] {
  return deployment.variants.filter(
    (v) =>
      v.weight > 0 &&
      (v.role === VariantRole.VARIANT_ROLE_STABLE ||
        v.role === VariantRole.VARIANT_ROLE_CANDIDATE ||
        v.role === VariantRole.VARIANT_ROLE_ARM),
  );
}

/**
 * Where a variant's traffic goes while its version has no ready replica: a candidate's to the
 * stable, a stable's to the previous version (a direct deploy's new version is still loading).
 * Arms have no fallback: an experiment never silently mixes in another version.
 */
function fallbackOf(deployment: registry.Deployment, variant: registry.Variant): registry.Variant[] {
  const byRole = (role: registry.VariantRole) => deployment.variants.filter((v) => v.role === role);
  switch (variant.role) {
    case VariantRole.VARIANT_ROLE_CANDIDATE:
      return [...byRole(VariantRole.VARIANT_ROLE_STABLE), ...byRole(VariantRole.VARIANT_ROLE_PREVIOUS)];
    case VariantRole.VARIANT_ROLE_STABLE:
      return byRole(VariantRole.VARIANT_ROLE_PREVIOUS);
    default:
      return [];
  }
}

/**
 * Chooses the variant that answers one request under the deployment's strategy: for an
 * experiment, the arm of hash(salt, unit) (the unit's value read through `lookup`); otherwise a
 * weighted random pick among the live variants. A chosen variant with no ready replica hands its
 * request to its fallback (see above); when none is ready the chosen variant is returned anyway,
 * and the caller reports it unavailable.
 *
 * @throws InvalidArgumentError when the deployment runs an experiment and the request lacks its
 *   unit key.
 * @returns undefined when the deployment has no live variant.
 */
export function chooseVariant(
  deployment: registry.Deployment,
  inputs: ChoiceInputs,
): VariantChoice | undefined {
  const live = liveVariants(deployment);
  if (live.length === 0) {
    const previous = deployment.variants.find((v) => v.role === VariantRole.VARIANT_ROLE_PREVIOUS);
    return previous ? { variant: previous } : undefined;
  }
  const experiment = deployment.strategy?.experiment;
  if (deployment.strategy?.kind === StrategyKind.STRATEGY_KIND_EXPERIMENT && experiment) {
    const unit = inputs.lookup(experiment.unitKey);
    if (unit === undefined || unit === '') {
      throw new InvalidArgumentError(
        `deployment "${deployment.name}" runs experiment "${experiment.name}": the request needs its unit key "${experiment.unitKey}"`,
      );
    }
    const variant = byBucket(live, assignmentBucket(experiment.salt || experiment.name, unit))!;
    return { variant, experiment: experiment.name, unit };
  }
  let chosen = live[0]!;
  if (live.length > 1) {
    const total = live.reduce((sum, v) => sum + v.weight, 0);
    chosen = byBucket(live, Math.floor((inputs.random ?? Math.random)() * total * 100))!;
  }
  if (inputs.isReady(chosen)) return { variant: chosen };
  const fallback = fallbackOf(deployment, chosen).find((v) => inputs.isReady(v));
  return { variant: fallback ?? chosen };
}

/** The variant holding a pinned version, for requests that bypass the strategy. */
export function variantForVersion(
  deployment: registry.Deployment,
  version: number,
): registry.Variant | undefined {
  const holding = deployment.variants.filter((v) => v.version === version);
  // Prefer a variant that takes traffic, so the record names the role the version plays.
  return holding.find((v) => v.role !== VariantRole.VARIANT_ROLE_SHADOW) ?? holding[0];
}

/** The shadow variants a request is mirrored to: each with probability equal to its sample rate. */
export function shadowsFor(
  deployment: registry.Deployment,
  random: () => number = Math.random,
): registry.Variant[] {
  const out: registry.Variant[] = [];
  for (const v of deployment.variants) {
    if (v.role === VariantRole.VARIANT_ROLE_SHADOW && v.sampleRate > 0 && random() < v.sampleRate)
      out.push(v);
  }
  return out;
}
