import { registry } from '@slipway/contracts';
import { createRegistryWatcher, type RegistryWatcher } from '@slipway/registry-client';
import { abortCanary, advanceCanary } from '@slipway/release';
import { createClient, type Logger } from '@slipway/service-kit';
import type { PredictionStore } from '../store/prediction-store.js';
import { analyseCanary, type CanaryAnalysis } from './canary-analysis.js';

/** Options of {@link startCanaryController}. */
export interface CanaryControllerOptions {
  readonly registryAddress: string;
  /** Deployer token for ApplyDeployment and AppendAuditEntry. */
  readonly token?: string;
  readonly store: PredictionStore;
  /** How often deployments are checked for a finished interval. */
  readonly tickMs: number;
  readonly logger: Logger;
  /** The clock (tests). Default Date.now. */
  readonly now?: () => number;
}

/** The running controller. */
export interface CanaryController {
  readonly watcher: RegistryWatcher;
  /** Stops after the analysis in progress, if any. Idempotent. */
  close(): Promise<void>;
}

/** Where one deployment's current canary step stands. */
interface Step {
  /** The deployment revision the step began with. */
  readonly revision: bigint;
  /** When the monitor first saw the step; its analysis window starts here. */
  readonly startedAt: number;
  /** Intervals already judged in this step (a hold waits for the next one). */
  judged: number;
}

const { StrategyKind, VariantRole } = registry;

/** A deployment whose canary the controller drives: a candidate taking traffic and an interval. */
function inCanary(d: registry.Deployment): boolean {
  const canary = d.strategy?.canary;
  return (
    d.strategy?.kind === StrategyKind.STRATEGY_KIND_CANARY &&
    canary !== undefined &&
    canary.intervalSeconds > 0 &&
    d.variants.some((v) => v.role === VariantRole.VARIANT_ROLE_CANDIDATE && v.weight > 0)
  );
}

/**
 * The automated canary analysis: for every deployment in a canary with an interval, once per
 * interval it compares the candidate with the stable over the same window of prediction records
 * (error rate, p99 latency, prediction PSI, against the rollout's thresholds) and then advances to
 * the next step, holds while data is insufficient, or aborts to weight 0. Each decision is written
 * to the registry's audit log (`rollout.decision`) with the numbers it was based on, and a change
 * is applied with optimistic concurrency, so a human's change in between wins.
 */
export function startCanaryController(options: CanaryControllerOptions): CanaryController {
  const { logger, store } = options;
  const now = options.now ?? Date.now;
  const deployments = createClient(registry.DeploymentServiceService, options.registryAddress, {
    token: options.token,
  });
  const audit = createClient(registry.AuditServiceService, options.registryAddress, { token: options.token });
  const steps = new Map<string, Step>();
  const watcher = createRegistryWatcher({ address: options.registryAddress, token: options.token, logger });
  let running: Promise<void> | undefined;
  let closed = false;

  const decide = async (deployment: registry.Deployment, step: Step, t: number): Promise<void> => {
    const canary = deployment.strategy!.canary!;
    const stable = deployment.variants.find((v) => v.role === VariantRole.VARIANT_ROLE_STABLE);
    const candidate = deployment.variants.find((v) => v.role === VariantRole.VARIANT_ROLE_CANDIDATE);
    if (!stable || !candidate) return;
    const records = await store.window({ deployment: deployment.name, fromMs: step.startedAt, toMs: t });
    const analysis: CanaryAnalysis = analyseCanary(records, stable.name, candidate.name, canary);
    const fromWeight = candidate.weight;
    let next: registry.Deployment | undefined;
    if (analysis.decision === 'advance') next = advanceCanary(deployment);
    if (analysis.decision === 'abort') next = abortCanary(deployment);
    const toWeight = next
      ? (next.variants.find((v) => v.role === VariantRole.VARIANT_ROLE_CANDIDATE)?.weight ??
        (analysis.decision === 'advance' ? 100 : 0))
      : fromWeight;
    const summary = `canary ${analysis.decision} ${fromWeight}% → ${toWeight}%: ${analysis.reasons.join('; ')}`;
    const evidence = {
      decision: analysis.decision,
      deployment: deployment.name,
      revision: String(deployment.revision),
      stable: `${stable.model}@${stable.version}`,
      candidate: `${candidate.model}@${candidate.version}`,
      fromWeight,
      toWeight,
      window: { start: new Date(step.startedAt).toISOString(), end: new Date(t).toISOString() },
      numbers: analysis.numbers,
      reasons: analysis.reasons,
    };
    if (next) {
      try {
        await deployments.applyDeployment({
          deployment: next,
          expectedRevision: deployment.revision,
          reason: summary,
        });
      } catch (err) {
        // Someone changed the deployment meanwhile: their change wins; the next step is judged anew.
        logger.warn(
          { deployment: deployment.name, err: (err as Error).message },
          'canary decision not applied',
        );
        return;
      }
    }
    await audit.appendAuditEntry({
      action: 'rollout.decision',
      target: `deployment/${deployment.name}`,
      beforeJson: '',
      afterJson: JSON.stringify(evidence),
      reason: summary,
    });
    logger.info({ ...evidence }, summary);
  };

  const tick = async (): Promise<void> => {
    const t = now();
    const live = new Set<string>();
    for (const deployment of watcher.state.deployments.values()) {
      if (!inCanary(deployment)) continue;
      live.add(deployment.name);
      let step = steps.get(deployment.name);
      if (!step || step.revision !== deployment.revision) {
        step = { revision: deployment.revision, startedAt: t, judged: 0 };
        steps.set(deployment.name, step);
        continue;
      }
      const interval = deployment.strategy!.canary!.intervalSeconds * 1000;
      const due = step.startedAt + (step.judged + 1) * interval;
      if (t < due) continue;
      step.judged++;
      try {
        await decide(deployment, step, t);
      } catch (err) {
        logger.error({ deployment: deployment.name, err }, 'canary analysis failed; retrying next interval');
      }
    }
    for (const name of steps.keys()) if (!live.has(name)) steps.delete(name);
  };

  const timer = setInterval(() => {
    if (running || closed || !watcher.state.synced) return;
    running = tick().finally(() => (running = undefined));
  }, options.tickMs);
  timer.unref();

  return {
    watcher,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await running;
      watcher.close();
      deployments.close();
      audit.close();
    },
  };
}
