import { randomBytes } from 'node:crypto';
import { registry } from '@slipway/contracts';
import { and, asc, desc, eq, max } from 'drizzle-orm';
import type { RegistryDatabase } from '../db/open-database.js';
import { deploymentHistory, deployments, modelVersions } from '../db/schema.js';
import { readTransaction, writeTransaction, type Executor } from '../db/transactions.js';
import type { AuditLog } from './audit-log.js';
import type { ChangeLog, ChangeRecord } from './change-log.js';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@slipway/errors';
import { deploymentFromJson, deploymentToJson } from './mappers.js';
import type { AuditContext } from './model-registry.js';
import { RESOURCE_NAME, resourceNameProblem } from './names.js';
import { invalidArgument } from './problems.js';

const { VariantRole, StrategyKind } = registry;
const MAX_DESCRIPTION = 4096;
const DEFAULT_HISTORY_LIMIT = 50;
const MAX_HISTORY_LIMIT = 1000;

/** `ApplyDeploymentRequest` plus who is asking. */
export interface ApplyDeploymentInput extends AuditContext {
  /** The desired state; revision, updated_at and updated_by are ignored. */
  deployment: registry.Deployment;
  /**
   * Optimistic concurrency: 0 (default) applies unconditionally; N > 0 applies only if the
   * deployment is at revision N; -1 applies only if it does not exist. FailedPreconditionError
   * otherwise.
   */
  expectedRevision?: bigint | number;
}

/** `ApplyDeploymentResponse`. */
export interface ApplyDeploymentResult {
  deployment: registry.Deployment;
  /** False when the desired state equalled the current one and no revision was written. */
  changed: boolean;
}

/** Removes a deployment. */
export interface DeleteDeploymentInput extends AuditContext {
  name: string;
  /** As in {@link ApplyDeploymentInput.expectedRevision}; -1 is meaningless here. */
  expectedRevision?: bigint | number;
}

/** Deployments: the desired state routers, workers and the monitor reconcile toward. */
export interface Deployments {
  /**
   * Validates the whole desired state (every problem in one InvalidArgumentError), checks the
   * expected revision, and writes a new registry revision with history and audit entry in one
   * transaction. An identical desired state writes nothing (`changed: false`).
   */
  applyDeployment(input: ApplyDeploymentInput): ApplyDeploymentResult;
  /** The current state. NotFoundError when the deployment does not exist. */
  getDeployment(name: string): registry.Deployment;
  /** Every deployment by name, with the registry revision they are consistent with. */
  listDeployments(): { deployments: registry.Deployment[]; revision: bigint };
  /** Every applied state of a deployment, newest first (default 50, at most 1000). */
  history(name: string, limit?: number): registry.Deployment[];
  /** Deletes a deployment as a new revision; returns it. Audited. */
  deleteDeployment(input: DeleteDeploymentInput): { revision: bigint };
}

/** Options of {@link createDeployments}. */
export interface DeploymentsOptions {
  database: RegistryDatabase;
  changeLog: ChangeLog;
  audit: AuditLog;
  now: () => Date;
  /** Called after each committed change, outside the transaction (the watch hub's publish). */
  onCommit?: (changes: readonly ChangeRecord[]) => void;
}

/** Creates the deployments module. */
export function createDeployments(options: DeploymentsOptions): Deployments {
  const { database, changeLog, audit, now } = options;
  const onCommit = options.onCommit ?? (() => undefined);

  const readCurrent = (tx: Executor, name: string): registry.Deployment | undefined => {
    const row = tx
      .select({ json: deployments.deploymentJson })
      .from(deployments)
      .where(eq(deployments.name, name))
      .get();
    return row ? deploymentFromJson(row.json) : undefined;
  };

  const checkExpected = (name: string, current: registry.Deployment | undefined, expected: bigint): void => {
    if (expected === 0n) return;
    if (expected === -1n) {
      if (current) {
        throw new FailedPreconditionError(
          `deployment "${name}" already exists at revision ${current.revision} (expected_revision -1 only creates; pass ${current.revision} to replace it)`,
        );
      }
      return;
    }
    if (!current) {
      throw new FailedPreconditionError(
        `deployment "${name}" does not exist, so it is not at revision ${expected} (pass -1 to create it)`,
      );
    }
    if (current.revision !== expected) {
      throw new FailedPreconditionError(
        `deployment "${name}" is at revision ${current.revision}, not ${expected} (it changed since you read it; read it again and re-apply)`,
      );
    }
  };

  return {
    applyDeployment(input) {
      const expected = parseExpectedRevision(input.expectedRevision, true);
      const name = input.deployment.name;
      const { deployment, change } = writeTransaction(
        database,
        (tx) => {
          const current = readCurrent(tx, name);
          checkExpected(name, current, expected);
          const desired = withSalt(desiredState(input.deployment), current);
          const problems = validateDeployment(desired, (model, version) =>
            versionProblem(tx, model, version),
          );
          if (problems.length > 0) throw invalidArgument(`deployment "${name}" is invalid`, problems);
          if (current && stateKey(current) === stateKey(desired))
            return { deployment: current, change: undefined };

          const revision = changeLog.nextRevision(tx);
          const time = now();
          const next: registry.Deployment = { ...desired, revision, updatedAt: time, updatedBy: input.actor };
          const json = deploymentToJson(next);
          const row = {
            name,
            revision: Number(revision),
            deploymentJson: json,
            updatedAt: time.toISOString(),
            updatedBy: input.actor,
          };
          tx.insert(deployments).values(row).onConflictDoUpdate({ target: deployments.name, set: row }).run();
          tx.insert(deploymentHistory).values(row).run();
          const recorded = changeLog.append(tx, {
            revision,
            kind: 'deployment',
            key: name,
            payloadJson: json,
          });
          audit.append(tx, {
            actor: input.actor,
            action: 'deployment.apply',
            target: `deployment/${name}`,
            before: current ? registry.Deployment.toJSON(current) : undefined,
            after: registry.Deployment.toJSON(next),
            reason: input.reason,
            traceId: input.traceId,
          });
          return { deployment: next, change: recorded };
        },
        { durable: true },
      );
      if (change) onCommit([change]);
      return { deployment, changed: change !== undefined };
    },

    getDeployment(name) {
      const current = readCurrent(database.db, name);
      if (!current) throw new NotFoundError(`deployment "${name}" does not exist (apply it first)`);
      return current;
    },

    listDeployments() {
      return readTransaction(database, (tx) => ({
        deployments: tx
          .select({ json: deployments.deploymentJson })
          .from(deployments)
          .orderBy(asc(deployments.name))
          .all()
          .map((r) => deploymentFromJson(r.json)),
        revision: changeLog.currentRevision(tx),
      }));
    },

    history(name, limit = DEFAULT_HISTORY_LIMIT) {
      const n = Math.min(Math.max(1, Math.trunc(limit) || DEFAULT_HISTORY_LIMIT), MAX_HISTORY_LIMIT);
      const rows = database.db
        .select({ json: deploymentHistory.deploymentJson })
        .from(deploymentHistory)
        .where(eq(deploymentHistory.name, name))
        .orderBy(desc(deploymentHistory.revision))
        .limit(n)
        .all();
      if (rows.length === 0)
        throw new NotFoundError(`deployment "${name}" has no history (it was never applied)`);
      return rows.map((r) => deploymentFromJson(r.json));
    },

    deleteDeployment(input) {
      const expected = parseExpectedRevision(input.expectedRevision, false);
      const { revision, change } = writeTransaction(
        database,
        (tx) => {
          const current = readCurrent(tx, input.name);
          if (!current)
            throw new NotFoundError(`deployment "${input.name}" does not exist (nothing to delete)`);
          checkExpected(input.name, current, expected);
          const next = changeLog.nextRevision(tx);
          tx.delete(deployments).where(eq(deployments.name, input.name)).run();
          const recorded = changeLog.append(tx, {
            revision: next,
            kind: 'deployment',
            key: input.name,
            payloadJson: null,
          });
          audit.append(tx, {
            actor: input.actor,
            action: 'deployment.delete',
            target: `deployment/${input.name}`,
            before: registry.Deployment.toJSON(current),
            reason: input.reason,
            traceId: input.traceId,
          });
          return { revision: next, change: recorded };
        },
        { durable: true },
      );
      onCommit([change]);
      return { revision };
    },
  };
}

function parseExpectedRevision(value: bigint | number | undefined, allowCreateOnly: boolean): bigint {
  if (value === undefined) return 0n;
  if (typeof value === 'number' && !Number.isSafeInteger(value))
    throw new InvalidArgumentError(`expected_revision ${value} is not an integer`);
  const n = BigInt(value);
  if (n < 0n && !(allowCreateOnly && n === -1n)) {
    throw new InvalidArgumentError(
      `expected_revision ${n} is invalid (use 0 for unconditional, a revision you read${allowCreateOnly ? ', or -1 to require that the deployment does not exist' : ''})`,
    );
  }
  return n;
}

/** The caller's desired state, stripped of the fields the registry sets. */
function desiredState(deployment: registry.Deployment): registry.Deployment {
  return registry.Deployment.fromPartial({
    ...deployment,
    revision: 0n,
    updatedAt: undefined,
    updatedBy: '',
  });
}

/** Text that is equal for two deployments exactly when their desired states are equal. */
function stateKey(deployment: registry.Deployment): string {
  return JSON.stringify(
    registry.Deployment.toJSON({ ...deployment, revision: 0n, updatedAt: undefined, updatedBy: '' }),
  );
}

/**
 * Fills an empty experiment salt. Re-applying the same experiment keeps its salt, otherwise
 * every re-apply would reshuffle which arm each unit sees; a new experiment gets a random one.
 */
function withSalt(
  desired: registry.Deployment,
  current: registry.Deployment | undefined,
): registry.Deployment {
  const experiment = desired.strategy?.experiment;
  if (
    desired.strategy?.kind !== StrategyKind.STRATEGY_KIND_EXPERIMENT ||
    !experiment ||
    experiment.salt !== ''
  )
    return desired;
  const previous = current?.strategy?.experiment;
  const salt =
    previous && previous.name === experiment.name && previous.salt !== ''
      ? previous.salt
      : randomBytes(16).toString('hex');
  return { ...desired, strategy: { ...desired.strategy, experiment: { ...experiment, salt } } };
}

function versionProblem(tx: Executor, model: string, version: number): string | undefined {
  const found = tx
    .select({ version: modelVersions.version })
    .from(modelVersions)
    .where(and(eq(modelVersions.model, model), eq(modelVersions.version, version)))
    .get();
  if (found) return undefined;
  const latest = tx
    .select({ latest: max(modelVersions.version) })
    .from(modelVersions)
    .where(eq(modelVersions.model, model))
    .get()?.latest;
  return latest
    ? `model "${model}" has no version ${version} (latest is ${latest})`
    : `model "${model}" does not exist (register it first)`;
}

const ROLE_NAMES: Record<number, string> = {
  [VariantRole.VARIANT_ROLE_STABLE]: 'STABLE',
  [VariantRole.VARIANT_ROLE_CANDIDATE]: 'CANDIDATE',
  [VariantRole.VARIANT_ROLE_SHADOW]: 'SHADOW',
  [VariantRole.VARIANT_ROLE_ARM]: 'ARM',
  [VariantRole.VARIANT_ROLE_PREVIOUS]: 'PREVIOUS',
};
const KIND_NAMES: Record<number, string> = {
  [StrategyKind.STRATEGY_KIND_DIRECT]: 'DIRECT',
  [StrategyKind.STRATEGY_KIND_BLUE_GREEN]: 'BLUE_GREEN',
  [StrategyKind.STRATEGY_KIND_CANARY]: 'CANARY',
  [StrategyKind.STRATEGY_KIND_EXPERIMENT]: 'EXPERIMENT',
};

/**
 * Every problem with a desired deployment state, in a stable order; empty when valid.
 * `versionProblem(model, version)` says why a pinned version does not exist (undefined if it does).
 *
 * Rules: a valid name; at least one variant; unique, valid variant names; every variant pins an
 * existing version (>= 1) and has a role; weights are integers 0..100 and add up to 100 over the
 * non-shadow variants; shadows carry weight 0 and a sample_rate in (0, 1], others sample_rate 0;
 * at most one PREVIOUS variant (the version a release replaced, kept loaded for rollback), at
 * weight 0, with any strategy; at most one candidate, and only for BLUE_GREEN or CANARY; exactly
 * one stable unless the strategy is EXPERIMENT, whose serving variants are all arms (at least
 * two); CANARY needs a candidate and a policy whose steps ascend to 100, with step_index at the
 * largest step not above the candidate's weight (0 while the weight is below the first step), so
 * a weight set by hand between steps is allowed and the next automatic step is the one above it;
 * EXPERIMENT needs a policy with name and unit_key (an empty salt is filled in beforehand);
 * a policy for another strategy is refused; decision_threshold is within [0, 1].
 */
export function validateDeployment(
  deployment: registry.Deployment,
  versionProblem: (model: string, version: number) => string | undefined,
): string[] {
  const problems: string[] = [];
  const nameProblem = resourceNameProblem('deployment', deployment.name);
  if (nameProblem) problems.push(nameProblem);

  const { variants } = deployment;
  if (variants.length === 0) problems.push('it has no variants; add at least one');

  const label = (v: registry.Variant, i: number): string =>
    v.name ? `variant "${v.name}"` : `variant #${i + 1}`;
  const seen = new Map<string, number>();
  for (const v of variants) seen.set(v.name, (seen.get(v.name) ?? 0) + 1);
  for (const [name, n] of seen)
    if (n > 1) problems.push(`variant name "${name}" is used ${n} times; variant names must be unique`);

  variants.forEach((v, i) => {
    const who = label(v, i);
    if (!RESOURCE_NAME.test(v.name))
      problems.push(`${who}: name is invalid (use 1-63 characters of a-z, 0-9, "_", "." or "-")`);
    const modelProblem = resourceNameProblem('model', v.model);
    if (modelProblem) problems.push(`${who}: ${modelProblem}`);
    if (!Number.isInteger(v.version) || v.version < 1) {
      problems.push(`${who}: version ${v.version} is invalid (pin an exact version, 1 or more)`);
    } else if (!modelProblem) {
      const missing = versionProblem(v.model, v.version);
      if (missing) problems.push(`${who}: ${missing}`);
    }
    if (ROLE_NAMES[v.role] === undefined)
      problems.push(`${who}: role is missing (use STABLE, CANDIDATE, SHADOW, ARM or PREVIOUS)`);
    if (!Number.isInteger(v.weight) || v.weight < 0 || v.weight > 100)
      problems.push(`${who}: weight ${v.weight} is not an integer from 0 to 100`);
    if (v.role === VariantRole.VARIANT_ROLE_PREVIOUS && v.weight !== 0)
      problems.push(
        `${who}: a PREVIOUS variant is kept loaded for rollback and serves no traffic, so its weight must be 0 (got ${v.weight}); make it STABLE or CANDIDATE to serve`,
      );
    if (v.role === VariantRole.VARIANT_ROLE_SHADOW) {
      if (v.weight !== 0)
        problems.push(
          `${who}: a shadow variant serves no traffic, so its weight must be 0 (got ${v.weight}); use sample_rate for its share`,
        );
      if (!(v.sampleRate > 0 && v.sampleRate <= 1))
        problems.push(`${who}: a shadow variant needs a sample_rate in (0, 1] (got ${v.sampleRate})`);
    } else if (v.sampleRate !== 0) {
      problems.push(`${who}: sample_rate ${v.sampleRate} applies to shadow variants only; set it to 0`);
    }
  });

  const serving = variants.filter((v) => v.role !== VariantRole.VARIANT_ROLE_SHADOW);
  const total = serving.reduce((sum, v) => sum + v.weight, 0);
  if (variants.length > 0 && total !== 100) {
    const parts = serving.map((v) => `${v.name || '?'} ${v.weight}`).join(' + ') || 'no serving variants';
    problems.push(
      `weights of the non-shadow variants add up to ${total} (${parts}); they must add up to 100`,
    );
  }

  const byRole = (role: registry.VariantRole) => variants.filter((v) => v.role === role);
  const stables = byRole(VariantRole.VARIANT_ROLE_STABLE);
  const candidates = byRole(VariantRole.VARIANT_ROLE_CANDIDATE);
  const arms = byRole(VariantRole.VARIANT_ROLE_ARM);
  const previous = byRole(VariantRole.VARIANT_ROLE_PREVIOUS);
  if (previous.length > 1)
    problems.push(
      `${previous.length} variants are PREVIOUS (${previous.map((v) => v.name).join(', ')}); at most one may be (keep the version a rollback returns to)`,
    );
  if (candidates.length > 1)
    problems.push(
      `${candidates.length} variants are candidates (${candidates.map((v) => v.name).join(', ')}); at most one may be`,
    );

  const strategy = deployment.strategy;
  const kind = strategy?.kind ?? StrategyKind.STRATEGY_KIND_UNSPECIFIED;
  const kindName = KIND_NAMES[kind];
  if (kindName === undefined) {
    problems.push('strategy.kind is missing (use DIRECT, BLUE_GREEN, CANARY or EXPERIMENT)');
  } else if (variants.length === 0) {
    // Already reported; role counts of nothing would only repeat it.
  } else if (kind === StrategyKind.STRATEGY_KIND_EXPERIMENT) {
    const others = [...stables, ...candidates];
    if (others.length > 0)
      problems.push(
        `an EXPERIMENT serves arms only; ${others.map((v) => `"${v.name}"`).join(', ')} must be ARM (or SHADOW)`,
      );
    if (arms.length < 2) problems.push(`an EXPERIMENT needs at least two ARM variants (has ${arms.length})`);
  } else {
    if (stables.length !== 1) problems.push(`exactly one variant must be STABLE (found ${stables.length})`);
    if (arms.length > 0)
      problems.push(
        `ARM variants (${arms.map((v) => v.name).join(', ')}) belong to EXPERIMENT deployments, not ${kindName}`,
      );
    if (candidates.length > 0 && kind === StrategyKind.STRATEGY_KIND_DIRECT) {
      problems.push(
        `a DIRECT deployment has no candidate ("${candidates[0]!.name}"); use BLUE_GREEN or CANARY to release one`,
      );
    }
  }

  const canary = strategy?.canary;
  if (kind === StrategyKind.STRATEGY_KIND_CANARY) {
    if (!canary) {
      problems.push('a CANARY deployment needs strategy.canary with its weight steps');
    } else {
      const { steps, stepIndex } = canary;
      const problemsBefore = problems.length;
      if (steps.length === 0)
        problems.push(
          'canary steps are empty; give ascending percentages ending at 100, e.g. 5, 25, 50, 100',
        );
      if (steps.some((s) => !Number.isInteger(s) || s < 1 || s > 100))
        problems.push(`canary steps [${steps.join(', ')}] must be integers from 1 to 100`);
      if (steps.some((s, i) => i > 0 && s <= steps[i - 1]!))
        problems.push(`canary steps [${steps.join(', ')}] must be strictly ascending`);
      if (steps.length > 0 && steps[steps.length - 1] !== 100)
        problems.push(`canary steps [${steps.join(', ')}] must end at 100`);
      if (steps.length > 0 && (!Number.isInteger(stepIndex) || stepIndex >= steps.length)) {
        problems.push(
          `canary step_index ${stepIndex} is out of range (steps has ${steps.length} entries, so 0 to ${steps.length - 1})`,
        );
      }
      if (candidates.length === 0) problems.push('a CANARY deployment needs a CANDIDATE variant');
      // Where the candidate's weight stands among the steps only means something for valid steps.
      const stepsValid = problems.length === problemsBefore;
      const candidate = candidates.length === 1 ? candidates[0]! : undefined;
      const step = steps[stepIndex];
      if (stepsValid && candidate && step !== undefined && Number.isInteger(candidate.weight)) {
        const reached = canaryStepIndex(steps, candidate.weight);
        if (reached !== stepIndex) {
          problems.push(
            `candidate "${candidate.name}" has weight ${candidate.weight} but canary step_index is ${stepIndex} (${step}); ` +
              `step_index must be ${reached}, the largest step not above the weight (0 below the first step)`,
          );
        }
      }
    }
  } else if (canary) {
    problems.push(
      `strategy.canary is set but the strategy is ${kindName ?? 'missing'}; remove it or use CANARY`,
    );
  }

  const experiment = strategy?.experiment;
  if (kind === StrategyKind.STRATEGY_KIND_EXPERIMENT) {
    if (!experiment) {
      problems.push('an EXPERIMENT deployment needs strategy.experiment with name and unit_key');
    } else {
      if (experiment.name.trim() === '')
        problems.push('experiment name is empty; name the experiment (outcomes are reported under it)');
      if (experiment.unitKey.trim() === '')
        problems.push(
          'experiment unit_key is empty; name the request key that identifies a unit, e.g. user_id',
        );
      if (experiment.salt === '') problems.push('experiment salt is empty');
    }
  } else if (experiment) {
    problems.push(
      `strategy.experiment is set but the strategy is ${kindName ?? 'missing'}; remove it or use EXPERIMENT`,
    );
  }

  if (!(deployment.decisionThreshold >= 0 && deployment.decisionThreshold <= 1)) {
    problems.push(`decision_threshold ${deployment.decisionThreshold} must be within [0, 1]`);
  }
  if (deployment.description.length > MAX_DESCRIPTION)
    problems.push(
      `description has ${deployment.description.length} characters; the limit is ${MAX_DESCRIPTION}`,
    );
  return problems;
}

/** Index of the largest step at or below `weight`; 0 while the weight is below the first step. */
function canaryStepIndex(steps: readonly number[], weight: number): number {
  let index = 0;
  steps.forEach((step, i) => {
    if (step <= weight) index = i;
  });
  return index;
}
