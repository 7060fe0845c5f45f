import { createHash } from 'node:crypto';
import type { monitor } from '@slipway/contracts';
import type { OutcomeRecord } from '../store/monitor-store.js';

/**
 * The problems of an outcome as received, empty when it can be stored: it must belong to a
 * request or to a unit of a deployment, and carry a label or a KPI, with finite numbers.
 */
export function outcomeProblems(o: monitor.Outcome): string[] {
  const problems: string[] = [];
  const hasRequest = o.requestId.trim() !== '';
  const hasUnit = o.unitKey.trim() !== '';
  if (!hasRequest && !hasUnit) problems.push('request_id, or unit_key with deployment, is required');
  if (hasUnit && o.deployment.trim() === '') problems.push('deployment is required with unit_key');
  if (o.label === undefined && o.kpi.trim() === '')
    problems.push('a label or a kpi (with its value) is required');
  if (o.label !== undefined && !Number.isFinite(o.label))
    problems.push(`label must be finite, got ${o.label}`);
  if (!Number.isFinite(o.value)) problems.push(`value must be finite, got ${o.value}`);
  return problems;
}

/**
 * The idempotency key of an outcome sent without one: a hash of what it belongs to (its request
 * id, else its deployment and unit key), its KPI ('' for a label) and its time. An outcome sent
 * without a time gets the time it was received, so only outcomes with an id or a time are
 * recognised when sent again.
 */
export function deriveOutcomeId(o: monitor.Outcome, timeMs: number): string {
  const owner = o.requestId !== '' ? ['request', o.requestId] : ['unit', o.deployment, o.unitKey];
  return createHash('sha256')
    .update(JSON.stringify([...owner, o.kpi, timeMs]))
    .digest('hex');
}

/** A received outcome as stored; one without a time gets `receivedAtMs`. */
export function fromProtoOutcome(o: monitor.Outcome, receivedAtMs: number): OutcomeRecord {
  const timeMs = o.time?.getTime() ?? receivedAtMs;
  return {
    outcomeId: o.outcomeId !== '' ? o.outcomeId : deriveOutcomeId(o, timeMs),
    requestId: o.requestId,
    unitKey: o.unitKey,
    deployment: o.deployment,
    label: o.label,
    kpi: o.kpi,
    value: o.value,
    timeMs,
  };
}
