import type { monitor } from '@slipway/contracts';
import type { Prediction } from '../store/prediction-store.js';

/**
 * The problems of a record as received, empty when it can be stored: the key fields (request id
 * and variant) and the deployment every query filters by must be set.
 */
export function recordProblems(record: monitor.PredictionRecord): string[] {
  const problems: string[] = [];
  if (record.requestId.trim() === '') problems.push('request_id is required');
  if (record.deployment.trim() === '') problems.push('deployment is required');
  if (record.variant.trim() === '') problems.push('variant is required');
  return problems;
}

/** A received record as stored; a record without a time gets `receivedAtMs`. */
export function fromProtoRecord(record: monitor.PredictionRecord, receivedAtMs: number): Prediction {
  return {
    requestId: record.requestId,
    variant: record.variant,
    deployment: record.deployment,
    model: record.model,
    version: record.version,
    features: Float32Array.from(record.features),
    outputs: Float64Array.from(record.outputs),
    latencyMs: record.latencyMs,
    status: record.status,
    timeMs: record.time?.getTime() ?? receivedAtMs,
    experiment: record.experiment,
    experimentArm: record.experimentArm,
    unitKey: record.unitKey,
    source: record.source,
    shadow: record.shadow,
    featureSetHash: record.featureSetHash,
    entityKeys: { ...record.entityKeys },
    error: record.error,
  };
}

/** A stored record as sent. */
export function toProtoRecord(p: Prediction): monitor.PredictionRecord {
  return {
    requestId: p.requestId,
    deployment: p.deployment,
    variant: p.variant,
    model: p.model,
    version: p.version,
    features: Array.from(p.features),
    outputs: Array.from(p.outputs),
    latencyMs: p.latencyMs,
    status: p.status,
    time: new Date(p.timeMs),
    experimentArm: p.experimentArm,
    unitKey: p.unitKey,
    source: p.source,
    shadow: p.shadow,
    featureSetHash: p.featureSetHash,
    entityKeys: { ...p.entityKeys },
    error: p.error,
    experiment: p.experiment,
  };
}
