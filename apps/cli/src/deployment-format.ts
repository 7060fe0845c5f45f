import { registry } from '@slipway/contracts';
import { findVariant, formatVersion, roleLabel, strategyLabel } from '@slipway/release';

const { VariantRole: Role } = registry;

/** `stable fraud@7 95%, candidate fraud@8 5%, previous fraud@6 (standby), shadow fraud@9 (10% copied)`. */
export function describeVariants(deployment: registry.Deployment): string {
  return deployment.variants
    .map((v) => {
      const share =
        v.role === Role.VARIANT_ROLE_SHADOW
          ? `(${formatPercent(v.sampleRate)} copied)`
          : v.role === Role.VARIANT_ROLE_PREVIOUS
            ? '(standby)'
            : `${v.weight}%`;
      return `${v.name} ${formatVersion(v)} ${share}`;
    })
    .join(', ');
}

/** `CANARY at 30% (step 2/4)`, `EXPERIMENT "threshold"`, `DIRECT`. */
export function describeStrategy(deployment: registry.Deployment): string {
  const strategy = deployment.strategy;
  const kind = strategyLabel(strategy?.kind);
  if (strategy?.canary && strategy.kind === registry.StrategyKind.STRATEGY_KIND_CANARY) {
    const { steps, stepIndex } = strategy.canary;
    const weight = findVariant(deployment, Role.VARIANT_ROLE_CANDIDATE)?.weight ?? 0;
    return `${kind} at ${weight}% (step ${stepIndex + 1}/${steps.length})`;
  }
  if (strategy?.experiment && strategy.kind === registry.StrategyKind.STRATEGY_KIND_EXPERIMENT)
    return `${kind} "${strategy.experiment.name}"`;
  return kind;
}

/** The variants as table rows: name, role, model@version, weight, sample. */
export function variantRows(deployment: registry.Deployment): Array<Array<string | number>> {
  return deployment.variants.map((v) => [
    v.name,
    roleLabel(v.role),
    formatVersion(v),
    v.weight,
    v.role === Role.VARIANT_ROLE_SHADOW ? formatPercent(v.sampleRate) : '',
  ]);
}

/** `steps 5 [25] 50 100, every 60s; abort if error rate > 0.02, p99 > 250 ms`. */
export function describeCanaryPolicy(canary: registry.CanaryPolicy): string {
  const steps = canary.steps.map((s, i) => (i === canary.stepIndex ? `[${s}]` : String(s))).join(' ');
  const pace =
    canary.intervalSeconds > 0 ? `every ${canary.intervalSeconds}s` : 'manual (no automatic steps)';
  const checks = [
    canary.maxErrorRate > 0 ? `error rate > ${canary.maxErrorRate}` : '',
    canary.maxP99Ms > 0 ? `p99 > ${canary.maxP99Ms} ms` : '',
    canary.maxPredictionPsi > 0 ? `prediction PSI > ${canary.maxPredictionPsi}` : '',
  ].filter((c) => c !== '');
  return `steps ${steps}, ${pace}${checks.length > 0 ? `; abort if ${checks.join(', ')}` : ''}`;
}

function formatPercent(rate: number): string {
  return `${Number((rate * 100).toPrecision(4))}%`;
}
