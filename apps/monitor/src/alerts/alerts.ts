import type { registry } from '@slipway/contracts';
import type { Logger, ServiceClient } from '@slipway/service-kit';
import { getDrift } from '../analysis/drift.js';
import { getHealth } from '../analysis/health.js';
import type { RegistryLookup } from '../services/registry-lookup.js';
import type { MonitorStore } from '../store/monitor-store.js';

/** Thresholds of the built-in alert rules. */
export interface AlertRules {
  /** Error rate of a primary variant over the window above which an alert fires. 0: off. */
  readonly errorRate: number;
  /** p99 latency of a primary variant in ms above which an alert fires. 0: off. */
  readonly p99Ms: number;
  /** Fire when the stable variant's data or prediction drift is detected (needs the registry). */
  readonly drift: boolean;
  /** The sliding window the rules look at, in seconds. */
  readonly windowSeconds: number;
  /** Requests a variant needs in the window before error rate and p99 are judged. */
  readonly minRequests: number;
}

/** One alert that is firing. */
export interface FiringAlert {
  readonly key: string;
  readonly rule: 'error_rate' | 'p99' | 'drift';
  readonly deployment: string;
  readonly variant: string;
  readonly value: number;
  readonly threshold: number;
  readonly summary: string;
  readonly since: number;
}

/** Options of {@link createAlerts}. */
export interface AlertOptions {
  readonly store: MonitorStore;
  readonly rules: AlertRules;
  readonly lookup?: RegistryLookup;
  /** Where fired and resolved alerts are recorded (`alert.fire`, `alert.resolve`); optional. */
  readonly audit?: ServiceClient<typeof registry.AuditServiceService>;
  readonly logger: Logger;
}

/** The alert evaluator: call {@link Alerts.evaluate} periodically. */
export interface Alerts {
  /** Evaluates every rule for every deployment the monitor has seen; returns what fires now. */
  evaluate(nowMs: number): Promise<FiringAlert[]>;
  firing(): FiringAlert[];
}

/**
 * Built-in alert rules over sliding windows: a primary variant's error rate and p99 latency, and
 * drift of the stable variant against its reference profile. An alert is written once when it
 * starts firing and once when it resolves — to the logs (warn / info) and, with a registry, to its
 * audit log as `alert.fire` / `alert.resolve` with the measured value and the threshold.
 */
export function createAlerts(options: AlertOptions): Alerts {
  const { store, rules, logger } = options;
  const active = new Map<string, FiringAlert>();

  const record = async (action: 'alert.fire' | 'alert.resolve', alert: FiringAlert): Promise<void> => {
    if (action === 'alert.fire') logger.warn({ alert }, `ALERT ${alert.summary}`);
    else logger.info({ alert }, `resolved: ${alert.summary}`);
    await options.audit
      ?.appendAuditEntry({
        action,
        target: `deployment/${alert.deployment}`,
        beforeJson: '',
        afterJson: JSON.stringify(alert),
        reason: action === 'alert.fire' ? alert.summary : `resolved: ${alert.summary}`,
      })
      .catch((err: unknown) =>
        logger.warn({ err: (err as Error).message }, 'alert not written to the audit log'),
      );
  };

  const check = async (deployment: string, nowMs: number): Promise<Omit<FiringAlert, 'since'>[]> => {
    const found: Omit<FiringAlert, 'since'>[] = [];
    const health = await getHealth(store, { deployment, windowSeconds: rules.windowSeconds }, nowMs);
    for (const v of health.variants) {
      if (v.shadow || Number(v.requests) < rules.minRequests) continue;
      const where = `${deployment}/${v.variant} (${v.model}@${v.version})`;
      if (rules.errorRate > 0 && v.errorRate > rules.errorRate) {
        found.push({
          key: `${deployment}/${v.variant}/error_rate`,
          rule: 'error_rate',
          deployment,
          variant: v.variant,
          value: v.errorRate,
          threshold: rules.errorRate,
          summary: `${where}: error rate ${(v.errorRate * 100).toFixed(1)}% over ${rules.windowSeconds}s is above ${(rules.errorRate * 100).toFixed(1)}%`,
        });
      }
      if (rules.p99Ms > 0 && v.p99Ms > rules.p99Ms) {
        found.push({
          key: `${deployment}/${v.variant}/p99`,
          rule: 'p99',
          deployment,
          variant: v.variant,
          value: v.p99Ms,
          threshold: rules.p99Ms,
          summary: `${where}: p99 ${v.p99Ms.toFixed(1)} ms over ${rules.windowSeconds}s is above ${rules.p99Ms} ms`,
        });
      }
    }
    if (rules.drift && options.lookup) {
      try {
        const drift = await getDrift(
          { store, lookup: options.lookup, nowMs },
          { deployment, variant: '', windowSeconds: rules.windowSeconds },
        );
        const drifted = [...drift.features, ...(drift.prediction ? [drift.prediction] : [])].filter(
          (f) => f.status === 'drift',
        );
        if (drifted.length > 0) {
          found.push({
            key: `${deployment}/${drift.variant}/drift`,
            rule: 'drift',
            deployment,
            variant: drift.variant,
            value: drifted.length,
            threshold: 0,
            summary: `${deployment}/${drift.variant} (${drift.model}@${drift.version}): drift in ${drifted
              .map((f) => `${f.feature} (${f.method} ${f.statistic.toFixed(3)}, PSI ${f.psi.toFixed(3)})`)
              .join(', ')}`,
          });
        }
      } catch (err) {
        // No stable variant, no profile, registry down: drift is not judged this time.
        logger.debug({ deployment, err: (err as Error).message }, 'drift not evaluated');
      }
    }
    return found;
  };

  return {
    async evaluate(nowMs) {
      const now = new Map<string, Omit<FiringAlert, 'since'>>();
      for (const deployment of await store.deployments()) {
        for (const alert of await check(deployment, nowMs)) now.set(alert.key, alert);
      }
      for (const [key, alert] of active) {
        if (!now.has(key)) {
          active.delete(key);
          await record('alert.resolve', alert);
        }
      }
      for (const [key, alert] of now) {
        const previous = active.get(key);
        if (previous) {
          active.set(key, { ...alert, since: previous.since });
          continue;
        }
        const fired = { ...alert, since: nowMs };
        active.set(key, fired);
        await record('alert.fire', fired);
      }
      return [...active.values()];
    },
    firing: () => [...active.values()],
  };
}
