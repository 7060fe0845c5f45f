import { registry } from '@slipway/contracts';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@slipway/errors';
import {
  VARIANT_NAMES,
  canaryStepIndex,
  findVariant,
  formatVersion,
  sameVersion,
  strategyLabel,
  variantsWithRole,
  type VersionRef,
} from './variants.js';

const { VariantRole: Role, StrategyKind: Kind } = registry;
type Deployment = registry.Deployment;
type Variant = registry.Variant;

/** Same rule as the registry's variant names, checked early so the message names the option. */
const VARIANT_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const RESERVED_ARM_NAMES: ReadonlySet<string> = new Set(Object.values(VARIANT_NAMES));
/** Threshold of the decision metrics of a deployment created by a direct deploy. */
const DEFAULT_DECISION_THRESHOLD = 0.5;

/** Options of {@link deployDirect}. */
export interface DirectOptions {
  model: string;
  version: number;
}

/** Options of {@link deployBlueGreen}. */
export interface BlueGreenOptions {
  version: number;
  /** Default: the stable variant's model. */
  model?: string;
}

/** Options of {@link deployCanary}. */
export interface CanaryOptions {
  version: number;
  /** Default: the stable variant's model. */
  model?: string;
  /** Candidate weights in percent: strictly ascending, each 1..100, ending at 100. */
  steps: readonly number[];
  /** Time between automatic steps; 0 means the monitor never advances the canary by itself. */
  intervalSeconds: number;
  /** Abort thresholds for the monitor's analysis; omitted or 0 means unchecked. */
  maxErrorRate?: number;
  maxP99Ms?: number;
  maxPredictionPsi?: number;
}

/** Options of {@link startShadow}. */
export interface ShadowOptions {
  version: number;
  /** Share of requests copied to the shadow, in (0, 1]. */
  sample: number;
  /** Default: the stable variant's model (the first arm's during an experiment). */
  model?: string;
}

/** One arm of {@link startExperiment}. */
export interface ExperimentArm {
  name: string;
  version: number;
  /** Percent of units, 0..100; the arms' weights add up to 100. */
  weight: number;
  /** Default: the stable variant's model. */
  model?: string;
}

/** Options of {@link startExperiment}. */
export interface ExperimentOptions {
  name: string;
  /** The request key that identifies a unit, e.g. `user_id`. */
  unitKey: string;
  arms: readonly ExperimentArm[];
  /** Assignment salt; default the experiment name, so assignment is reproducible. */
  salt?: string;
}

/** Options of {@link stopExperiment}. */
export interface StopExperimentOptions {
  /** The arm that becomes stable. Default: see {@link stopExperiment}. */
  winner?: string;
  /**
   * The stable version before the experiment started (from the deployment's history), if known:
   * the default winner is the arm that holds it, and a losing arm that holds it becomes previous.
   */
  stableBefore?: VersionRef;
}

/**
 * Direct deploy: `model@version` becomes the stable variant at weight 100. A stable of another
 * version becomes `previous` (weight 0: kept loaded for an instant rollback, and answering while
 * the new version has no ready replica). Candidates and arms are dropped, shadows kept; strategy
 * DIRECT. Creates the deployment when `current` is undefined. Deploying the version that is
 * already stable under DIRECT returns `current` unchanged.
 */
export function deployDirect(
  current: Deployment | undefined,
  name: string,
  options: DirectOptions,
): Deployment {
  if (name.trim() === '') throw new InvalidArgumentError('the deployment name is empty');
  const ref = checkRef(options.model, options.version);
  const stable = variant(VARIANT_NAMES.stable, Role.VARIANT_ROLE_STABLE, ref, 100);
  if (!current) {
    return registry.Deployment.fromPartial({
      name,
      variants: [stable],
      strategy: directStrategy(),
      decisionThreshold: DEFAULT_DECISION_THRESHOLD,
    });
  }
  const oldStable = findVariant(current, Role.VARIANT_ROLE_STABLE);
  if (oldStable && sameVersion(oldStable, ref) && isDirect(current)) return current;
  const oldPrevious = findVariant(current, Role.VARIANT_ROLE_PREVIOUS);
  let previous: Variant | undefined;
  if (oldStable && !sameVersion(oldStable, ref)) previous = asPrevious(oldStable);
  else if (oldPrevious && !sameVersion(oldPrevious, ref)) previous = oldPrevious;
  return withVariants(current, [stable, ...optional(previous), ...shadowsOf(current)], directStrategy());
}

/**
 * Blue-green: `version` (of the stable's model unless `model` is given) joins as the candidate at
 * weight 0, reachable only by pinning its version, until {@link promote} switches all traffic.
 * Needs a stable variant and no other release in progress.
 */
export function deployBlueGreen(current: Deployment | undefined, options: BlueGreenOptions): Deployment {
  checkVersion(options.version, 'version');
  const { deployment, stable, ref } = prepareRelease(current, options, 'deploy a blue-green candidate');
  return withVariants(
    deployment,
    [
      { ...stable, name: VARIANT_NAMES.stable, weight: 100 },
      variant(VARIANT_NAMES.candidate, Role.VARIANT_ROLE_CANDIDATE, ref, 0),
      ...previousOf(deployment),
      ...shadowsOf(deployment),
    ],
    { kind: Kind.STRATEGY_KIND_BLUE_GREEN, canary: undefined, experiment: undefined },
  );
}

/**
 * Canary: `version` joins as the candidate at `steps[0]` percent, the stable keeps the rest;
 * strategy CANARY at step 0. The monitor moves it on with {@link advanceCanary} or
 * {@link abortCanary}. Needs a stable variant and no other release in progress (re-planning the
 * same candidate is allowed).
 */
export function deployCanary(current: Deployment | undefined, options: CanaryOptions): Deployment {
  checkVersion(options.version, 'version');
  const steps = checkSteps(options.steps);
  if (!Number.isInteger(options.intervalSeconds) || options.intervalSeconds < 0)
    throw new InvalidArgumentError(
      `canary interval ${options.intervalSeconds} s is not a whole number of seconds (0 or more)`,
    );
  const maxErrorRate = checkThreshold(options.maxErrorRate, 'max error rate', 1);
  const maxP99Ms = checkThreshold(options.maxP99Ms, 'max p99 latency (ms)');
  const maxPredictionPsi = checkThreshold(options.maxPredictionPsi, 'max prediction PSI');
  const { deployment, stable, ref } = prepareRelease(current, options, 'deploy a canary');
  const weight = steps[0]!;
  return withVariants(
    deployment,
    [
      { ...stable, name: VARIANT_NAMES.stable, weight: 100 - weight },
      variant(VARIANT_NAMES.candidate, Role.VARIANT_ROLE_CANDIDATE, ref, weight),
      ...previousOf(deployment),
      ...shadowsOf(deployment),
    ],
    {
      kind: Kind.STRATEGY_KIND_CANARY,
      canary: {
        steps,
        stepIndex: 0,
        intervalSeconds: options.intervalSeconds,
        maxErrorRate,
        maxP99Ms,
        maxPredictionPsi,
      },
      experiment: undefined,
    },
  );
}

/**
 * Promotes the candidate (blue-green or canary): it becomes the stable variant at 100, the old
 * stable becomes `previous` at 0 (replacing any older previous); strategy DIRECT.
 * FailedPreconditionError without a candidate.
 */
export function promote(current: Deployment | undefined): Deployment {
  const deployment = requireDeployment(current, 'promote');
  const candidate = requireCandidate(deployment, 'promote');
  const oldStable = findVariant(deployment, Role.VARIANT_ROLE_STABLE);
  const previous =
    oldStable && !sameVersion(oldStable, candidate) ? [asPrevious(oldStable)] : previousOf(deployment);
  return withVariants(
    deployment,
    [
      variant(VARIANT_NAMES.stable, Role.VARIANT_ROLE_STABLE, candidate, 100),
      ...previous,
      ...shadowsOf(deployment),
    ],
    directStrategy(),
  );
}

/**
 * Rolls back. During a release: drops the candidate and returns the stable to 100 (strategy
 * DIRECT). Otherwise swaps stable and previous, so the previous version serves 100 and rolling
 * back again rolls forward. FailedPreconditionError when there is neither, or during an
 * experiment (stop it instead: the winner becomes stable).
 */
export function rollback(current: Deployment | undefined): Deployment {
  const deployment = requireDeployment(current, 'roll back');
  if (findVariant(deployment, Role.VARIANT_ROLE_CANDIDATE)) return dropCandidate(deployment);
  const experiment = runningExperiment(deployment);
  if (experiment !== undefined) {
    throw new FailedPreconditionError(
      `deployment "${deployment.name}" runs experiment "${experiment}"; stop the experiment instead of rolling back (its winner becomes stable, by default the arm with the old stable version)`,
    );
  }
  const stable = findVariant(deployment, Role.VARIANT_ROLE_STABLE);
  const previous = findVariant(deployment, Role.VARIANT_ROLE_PREVIOUS);
  if (!stable || !previous) {
    throw new FailedPreconditionError(
      `deployment "${deployment.name}" has no candidate and no previous version to roll back to`,
    );
  }
  return withVariants(
    deployment,
    [
      variant(VARIANT_NAMES.stable, Role.VARIANT_ROLE_STABLE, previous, 100),
      asPrevious(stable),
      ...shadowsOf(deployment),
    ],
    directStrategy(),
  );
}

/**
 * Sets the candidate's share of traffic by hand (0..100); the stable keeps the rest. Under
 * CANARY the policy stays, with step_index at the largest step at or below the weight (see
 * {@link canaryStepIndex}). Under BLUE_GREEN a weight above 0 turns the release into a manual
 * canary: steps [100], interval 0 (the monitor does not advance it), no thresholds.
 * FailedPreconditionError without a candidate.
 */
export function setCanaryWeight(current: Deployment | undefined, weight: number): Deployment {
  checkWeight(weight);
  const deployment = requireDeployment(current, 'set a canary weight on');
  const candidate = requireCandidate(deployment, 'set the weight of');
  let strategy: registry.Strategy;
  const canary = deployment.strategy?.canary;
  if (deployment.strategy?.kind === Kind.STRATEGY_KIND_CANARY && canary) {
    strategy = {
      ...deployment.strategy,
      canary: { ...canary, stepIndex: canaryStepIndex(canary.steps, weight) },
    };
  } else if (weight === 0) {
    strategy = { kind: Kind.STRATEGY_KIND_BLUE_GREEN, canary: undefined, experiment: undefined };
  } else {
    strategy = {
      kind: Kind.STRATEGY_KIND_CANARY,
      canary: manualCanaryPolicy(),
      experiment: undefined,
    };
  }
  return withWeights(deployment, candidate, weight, strategy);
}

/**
 * The monitor's "healthy, go on": moves the candidate to the first step above its weight;
 * reaching 100 promotes it ({@link promote}). FailedPreconditionError unless a canary runs.
 */
export function advanceCanary(current: Deployment | undefined): Deployment {
  const deployment = requireDeployment(current, 'advance');
  const canary = deployment.strategy?.canary;
  const candidate = findVariant(deployment, Role.VARIANT_ROLE_CANDIDATE);
  if (deployment.strategy?.kind !== Kind.STRATEGY_KIND_CANARY || !canary || !candidate) {
    throw new FailedPreconditionError(
      `deployment "${deployment.name}" runs no canary to advance (strategy ${strategyLabel(deployment.strategy?.kind)})`,
    );
  }
  const next = canary.steps.find((step) => step > candidate.weight);
  if (next === undefined || next >= 100) return promote(deployment);
  return withWeights(deployment, candidate, next, {
    ...deployment.strategy,
    canary: { ...canary, stepIndex: canary.steps.indexOf(next) },
  });
}

/**
 * The monitor's "unhealthy, stop": the candidate leaves (its traffic returns to the stable),
 * strategy DIRECT; the same as {@link rollback} during a release, but never rolls back to the
 * previous version. FailedPreconditionError without a candidate.
 */
export function abortCanary(current: Deployment | undefined): Deployment {
  const deployment = requireDeployment(current, 'abort');
  requireCandidate(deployment, 'abort');
  return dropCandidate(deployment);
}

/**
 * Starts (or replaces) the one shadow variant: weight 0, receiving a copy of `sample` of the
 * requests; its answers are recorded, never returned. The strategy is unchanged.
 */
export function startShadow(current: Deployment | undefined, options: ShadowOptions): Deployment {
  checkVersion(options.version, 'version');
  if (!(Number.isFinite(options.sample) && options.sample > 0 && options.sample <= 1)) {
    throw new InvalidArgumentError(
      `shadow sample ${options.sample} must be in (0, 1]: the share of requests copied to the shadow`,
    );
  }
  const deployment = requireDeployment(current, 'add a shadow to');
  const stable = findVariant(deployment, Role.VARIANT_ROLE_STABLE);
  const base = stable ?? findVariant(deployment, Role.VARIANT_ROLE_ARM);
  const ref = checkRef(options.model ?? base?.model ?? deployment.name, options.version);
  if (stable && sameVersion(stable, ref)) {
    throw new FailedPreconditionError(
      `${formatVersion(ref)} is the stable version of deployment "${deployment.name}"; shadow a different version`,
    );
  }
  return withVariants(
    deployment,
    [
      ...deployment.variants.filter((v) => v.role !== Role.VARIANT_ROLE_SHADOW),
      variant(VARIANT_NAMES.shadow, Role.VARIANT_ROLE_SHADOW, ref, 0, options.sample),
    ],
    deployment.strategy,
  );
}

/** Removes the shadow variant. FailedPreconditionError when there is none. */
export function stopShadow(current: Deployment | undefined): Deployment {
  const deployment = requireDeployment(current, 'stop a shadow of');
  if (shadowsOf(deployment).length === 0)
    throw new FailedPreconditionError(`deployment "${deployment.name}" has no shadow variant to stop`);
  return withVariants(
    deployment,
    deployment.variants.filter((v) => v.role !== Role.VARIANT_ROLE_SHADOW),
    deployment.strategy,
  );
}

/**
 * Starts an A/B experiment: the arms (role ARM, weights adding up to 100) replace the stable,
 * which stays loaded as `previous` at 0 unless an arm holds its version. Strategy EXPERIMENT with
 * `{name, salt (default name), unit_key}`. Needs a stable variant and no release in progress.
 */
export function startExperiment(current: Deployment | undefined, options: ExperimentOptions): Deployment {
  checkExperimentOptions(options);
  const deployment = requireDeployment(current, 'start an experiment on');
  const running = runningExperiment(deployment);
  if (running !== undefined) {
    throw new FailedPreconditionError(
      `deployment "${deployment.name}" already runs experiment "${running}"; stop it first`,
    );
  }
  const stable = requireStable(deployment, 'start an experiment');
  const candidate = findVariant(deployment, Role.VARIANT_ROLE_CANDIDATE);
  if (candidate) {
    throw new FailedPreconditionError(
      `deployment "${deployment.name}" is releasing ${formatVersion(candidate)} (strategy ${strategyLabel(deployment.strategy?.kind)}); promote it or roll it back before starting an experiment`,
    );
  }
  const arms = options.arms.map((arm) =>
    variant(arm.name, Role.VARIANT_ROLE_ARM, checkRef(arm.model ?? stable.model, arm.version), arm.weight),
  );
  const held = (ref: VersionRef) => arms.some((arm) => sameVersion(arm, ref));
  const oldPrevious = findVariant(deployment, Role.VARIANT_ROLE_PREVIOUS);
  let previous: Variant | undefined;
  if (!held(stable)) previous = asPrevious(stable);
  else if (oldPrevious && !held(oldPrevious)) previous = oldPrevious;
  return withVariants(deployment, [...arms, ...optional(previous), ...shadowsOf(deployment)], {
    kind: Kind.STRATEGY_KIND_EXPERIMENT,
    canary: undefined,
    experiment: { name: options.name, salt: options.salt || options.name, unitKey: options.unitKey },
  });
}

/**
 * Stops the experiment: the winning arm becomes the stable variant at 100, strategy DIRECT.
 * Default winner: the arm holding `stableBefore`, else the first arm. A losing arm holding
 * `stableBefore` becomes `previous`; otherwise the existing previous stays (unless it is the
 * winner's version). InvalidArgumentError for an unknown winner; FailedPreconditionError when no
 * experiment runs.
 */
export function stopExperiment(
  current: Deployment | undefined,
  options: StopExperimentOptions = {},
): Deployment {
  const deployment = requireDeployment(current, 'stop an experiment on');
  const name = runningExperiment(deployment);
  const arms = variantsWithRole(deployment, Role.VARIANT_ROLE_ARM);
  if (name === undefined || arms.length === 0) {
    throw new FailedPreconditionError(
      `deployment "${deployment.name}" runs no experiment (strategy ${strategyLabel(deployment.strategy?.kind)})`,
    );
  }
  const before = options.stableBefore;
  const holdsBefore = (arm: Variant) => before !== undefined && sameVersion(arm, before);
  let winner: Variant;
  if (options.winner !== undefined) {
    const found = arms.find((arm) => arm.name === options.winner);
    if (!found) {
      throw new InvalidArgumentError(
        `experiment "${name}" has no arm "${options.winner}" (arms: ${arms.map((a) => a.name).join(', ')})`,
      );
    }
    winner = found;
  } else {
    winner = arms.find(holdsBefore) ?? arms[0]!;
  }
  const losingBefore = arms.find((arm) => holdsBefore(arm) && !sameVersion(arm, winner));
  const oldPrevious = findVariant(deployment, Role.VARIANT_ROLE_PREVIOUS);
  let previous: Variant | undefined;
  if (losingBefore) previous = asPrevious(losingBefore);
  else if (oldPrevious && !sameVersion(oldPrevious, winner)) previous = oldPrevious;
  return withVariants(
    deployment,
    [
      variant(VARIANT_NAMES.stable, Role.VARIANT_ROLE_STABLE, winner, 100),
      ...optional(previous),
      ...shadowsOf(deployment),
    ],
    directStrategy(),
  );
}

// ---- helpers ----

const ROLE_ORDER: Record<number, number> = {
  [Role.VARIANT_ROLE_STABLE]: 0,
  [Role.VARIANT_ROLE_CANDIDATE]: 1,
  [Role.VARIANT_ROLE_ARM]: 2,
  [Role.VARIANT_ROLE_PREVIOUS]: 3,
  [Role.VARIANT_ROLE_SHADOW]: 4,
};

/** `deployment` with new variants (in role order, stably) and strategy. */
function withVariants(
  deployment: Deployment,
  variants: readonly Variant[],
  strategy: registry.Strategy | undefined,
): Deployment {
  const rank = (v: Variant) => ROLE_ORDER[v.role] ?? 5;
  return {
    ...deployment,
    variants: [...variants].sort((a, b) => rank(a) - rank(b)),
    strategy,
  };
}

/** The candidate at `weight`, the stable at the rest; other variants unchanged. */
function withWeights(
  deployment: Deployment,
  candidate: Variant,
  weight: number,
  strategy: registry.Strategy,
): Deployment {
  return withVariants(
    deployment,
    deployment.variants.map((v) => {
      if (v === candidate) return { ...v, weight };
      if (v.role === Role.VARIANT_ROLE_STABLE) return { ...v, weight: 100 - weight };
      return v;
    }),
    strategy,
  );
}

function dropCandidate(deployment: Deployment): Deployment {
  const stable = requireStable(deployment, 'drop the candidate');
  return withVariants(
    deployment,
    [
      { ...stable, name: VARIANT_NAMES.stable, weight: 100 },
      ...previousOf(deployment),
      ...shadowsOf(deployment),
    ],
    directStrategy(),
  );
}

function variant(
  name: string,
  role: registry.VariantRole,
  ref: VersionRef,
  weight: number,
  sampleRate = 0,
): Variant {
  return { name, model: ref.model, version: ref.version, role, weight, sampleRate };
}

function asPrevious(v: Variant): Variant {
  return variant(VARIANT_NAMES.previous, Role.VARIANT_ROLE_PREVIOUS, v, 0);
}

function directStrategy(): registry.Strategy {
  return { kind: Kind.STRATEGY_KIND_DIRECT, canary: undefined, experiment: undefined };
}

function manualCanaryPolicy(): registry.CanaryPolicy {
  return {
    steps: [100],
    stepIndex: 0,
    intervalSeconds: 0,
    maxErrorRate: 0,
    maxP99Ms: 0,
    maxPredictionPsi: 0,
  };
}

function isDirect(deployment: Deployment): boolean {
  return (
    deployment.strategy?.kind === Kind.STRATEGY_KIND_DIRECT &&
    deployment.variants.every(
      (v) => v.role !== Role.VARIANT_ROLE_CANDIDATE && v.role !== Role.VARIANT_ROLE_ARM,
    )
  );
}

function shadowsOf(deployment: Deployment): Variant[] {
  return variantsWithRole(deployment, Role.VARIANT_ROLE_SHADOW);
}

/** The previous variant (at most one), as a list. */
function previousOf(deployment: Deployment): Variant[] {
  return optional(findVariant(deployment, Role.VARIANT_ROLE_PREVIOUS));
}

function optional<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value];
}

function runningExperiment(deployment: Deployment): string | undefined {
  return deployment.strategy?.kind === Kind.STRATEGY_KIND_EXPERIMENT
    ? (deployment.strategy.experiment?.name ?? '')
    : undefined;
}

function requireDeployment(current: Deployment | undefined, action: string): Deployment {
  if (!current)
    throw new NotFoundError(`there is no deployment to ${action}; create it with a direct deploy first`);
  return current;
}

function requireStable(deployment: Deployment, action: string): Variant {
  const stable = findVariant(deployment, Role.VARIANT_ROLE_STABLE);
  if (stable) return stable;
  const experiment = runningExperiment(deployment);
  throw new FailedPreconditionError(
    experiment !== undefined
      ? `deployment "${deployment.name}" runs experiment "${experiment}" and has no stable variant; stop the experiment before you ${action}`
      : `deployment "${deployment.name}" has no stable variant; deploy one directly before you ${action}`,
  );
}

function requireCandidate(deployment: Deployment, action: string): Variant {
  const candidate = findVariant(deployment, Role.VARIANT_ROLE_CANDIDATE);
  if (candidate) return candidate;
  const experiment = runningExperiment(deployment);
  throw new FailedPreconditionError(
    experiment !== undefined
      ? `deployment "${deployment.name}" runs experiment "${experiment}" and has no candidate to ${action}; stop the experiment with a winner instead`
      : `deployment "${deployment.name}" has no candidate to ${action} (strategy ${strategyLabel(deployment.strategy?.kind)}); start a release with a blue-green or canary deploy`,
  );
}

/**
 * Common checks of a blue-green or canary release: a deployment with a stable variant, a version
 * other than the stable one, and no release of another version or experiment in progress.
 */
function prepareRelease(
  current: Deployment | undefined,
  options: { version: number; model?: string },
  action: string,
): { deployment: Deployment; stable: Variant; ref: VersionRef } {
  const deployment = requireDeployment(current, action);
  const stable = requireStable(deployment, action);
  const ref = checkRef(options.model ?? stable.model, options.version);
  if (sameVersion(stable, ref)) {
    throw new FailedPreconditionError(
      `${formatVersion(ref)} is already the stable version of deployment "${deployment.name}"; release a different version`,
    );
  }
  const candidate = findVariant(deployment, Role.VARIANT_ROLE_CANDIDATE);
  if (candidate && !sameVersion(candidate, ref)) {
    throw new FailedPreconditionError(
      `deployment "${deployment.name}" is already releasing ${formatVersion(candidate)} (strategy ${strategyLabel(deployment.strategy?.kind)}); promote it or roll it back first`,
    );
  }
  return { deployment, stable, ref };
}

function checkRef(model: string, version: number): VersionRef {
  if (model.trim() === '') throw new InvalidArgumentError('the model name is empty');
  checkVersion(version, 'version');
  return { model, version };
}

function checkVersion(version: number, what: string): void {
  if (!Number.isInteger(version) || version < 1)
    throw new InvalidArgumentError(`${what} ${version} is not a model version (a whole number, 1 or more)`);
}

function checkWeight(weight: number): void {
  if (!Number.isInteger(weight) || weight < 0 || weight > 100)
    throw new InvalidArgumentError(`weight ${weight} is not a whole percentage from 0 to 100`);
}

function checkSteps(steps: readonly number[]): number[] {
  const shown = `[${steps.join(', ')}]`;
  if (steps.length === 0)
    throw new InvalidArgumentError(
      'canary steps are empty; give ascending percentages ending at 100, e.g. 5,25,50,100',
    );
  if (steps.some((s) => !Number.isInteger(s) || s < 1 || s > 100))
    throw new InvalidArgumentError(`canary steps ${shown} must be whole percentages from 1 to 100`);
  if (steps.some((s, i) => i > 0 && s <= steps[i - 1]!))
    throw new InvalidArgumentError(`canary steps ${shown} must be strictly ascending`);
  if (steps[steps.length - 1] !== 100)
    throw new InvalidArgumentError(`canary steps ${shown} must end at 100 (the candidate takes all traffic)`);
  return [...steps];
}

function checkThreshold(value: number | undefined, what: string, max = Infinity): number {
  if (value === undefined) return 0;
  if (!(Number.isFinite(value) && value >= 0 && value <= max))
    throw new InvalidArgumentError(
      `${what} ${value} must be a number from 0${max === Infinity ? '' : ` to ${max}`} (0 leaves it unchecked)`,
    );
  return value;
}

function checkExperimentOptions(options: ExperimentOptions): void {
  if (options.name.trim() === '')
    throw new InvalidArgumentError('the experiment name is empty; outcomes are reported under it');
  if (options.unitKey.trim() === '')
    throw new InvalidArgumentError(
      `experiment "${options.name}" needs a unit key: the request key that identifies a unit, e.g. user_id`,
    );
  const { arms } = options;
  if (arms.length < 2)
    throw new InvalidArgumentError(
      `experiment "${options.name}" needs at least two arms (has ${arms.length})`,
    );
  const seen = new Set<string>();
  for (const arm of arms) {
    if (!VARIANT_NAME.test(arm.name))
      throw new InvalidArgumentError(
        `arm name "${arm.name}" is invalid: use 1-63 characters of a-z, 0-9, "_", "." or "-", starting with a letter or digit`,
      );
    if (RESERVED_ARM_NAMES.has(arm.name))
      throw new InvalidArgumentError(
        `arm name "${arm.name}" is reserved for the release variants (${[...RESERVED_ARM_NAMES].join(', ')}); e.g. use control and treatment`,
      );
    if (seen.has(arm.name)) throw new InvalidArgumentError(`arm "${arm.name}" is given twice`);
    seen.add(arm.name);
    checkVersion(arm.version, `arm "${arm.name}" version`);
    if (!Number.isInteger(arm.weight) || arm.weight < 0 || arm.weight > 100)
      throw new InvalidArgumentError(
        `arm "${arm.name}" weight ${arm.weight} is not a whole percentage from 0 to 100`,
      );
  }
  const total = arms.reduce((sum, arm) => sum + arm.weight, 0);
  if (total !== 100)
    throw new InvalidArgumentError(
      `arm weights add up to ${total} (${arms.map((a) => `${a.name} ${a.weight}`).join(' + ')}); they must add up to 100`,
    );
}
