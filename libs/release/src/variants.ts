import { registry } from '@slipway/contracts';

const { VariantRole: Role, StrategyKind: Kind } = registry;

/** The names the release transformations give variants; experiment arms keep their own. */
export const VARIANT_NAMES = {
  stable: 'stable',
  candidate: 'candidate',
  previous: 'previous',
  shadow: 'shadow',
} as const;

/** What a variant serves: one exact model version. */
export interface VersionRef {
  readonly model: string;
  readonly version: number;
}

/** The first variant with `role`, if any. */
export function findVariant(
  deployment: registry.Deployment,
  role: registry.VariantRole,
): registry.Variant | undefined {
  return deployment.variants.find((v) => v.role === role);
}

/** Every variant with `role`, in deployment order. */
export function variantsWithRole(
  deployment: registry.Deployment,
  role: registry.VariantRole,
): registry.Variant[] {
  return deployment.variants.filter((v) => v.role === role);
}

/** True when both name the same model version. */
export function sameVersion(a: VersionRef, b: VersionRef): boolean {
  return a.model === b.model && a.version === b.version;
}

/** `fraud@7`. */
export function formatVersion(ref: VersionRef): string {
  return `${ref.model}@${ref.version}`;
}

const ROLE_LABELS: Record<number, string> = {
  [Role.VARIANT_ROLE_STABLE]: 'STABLE',
  [Role.VARIANT_ROLE_CANDIDATE]: 'CANDIDATE',
  [Role.VARIANT_ROLE_SHADOW]: 'SHADOW',
  [Role.VARIANT_ROLE_ARM]: 'ARM',
  [Role.VARIANT_ROLE_PREVIOUS]: 'PREVIOUS',
};

const KIND_LABELS: Record<number, string> = {
  [Kind.STRATEGY_KIND_DIRECT]: 'DIRECT',
  [Kind.STRATEGY_KIND_BLUE_GREEN]: 'BLUE_GREEN',
  [Kind.STRATEGY_KIND_CANARY]: 'CANARY',
  [Kind.STRATEGY_KIND_EXPERIMENT]: 'EXPERIMENT',
};

/** `STABLE`, `CANDIDATE`, ... (`UNSPECIFIED` for anything else). */
export function roleLabel(role: registry.VariantRole): string {
  return ROLE_LABELS[role] ?? 'UNSPECIFIED';
}

/** `DIRECT`, `BLUE_GREEN`, `CANARY`, `EXPERIMENT` (`UNSPECIFIED` for anything else). */
export function strategyLabel(kind: registry.StrategyKind | undefined): string {
  return (kind !== undefined && KIND_LABELS[kind]) || 'UNSPECIFIED';
}

/**
 * Position in the canary steps that `weight` has reached: the largest step at or below it, or 0
 * while the weight is still below the first step. The registry holds a CANARY deployment's
 * step_index to exactly this, so a manually set weight keeps the policy consistent and the next
 * automatic step is the first one above the weight.
 */
export function canaryStepIndex(steps: readonly number[], weight: number): number {
  let index = 0;
  steps.forEach((step, i) => {
    if (step <= weight) index = i;
  });
  return index;
}
