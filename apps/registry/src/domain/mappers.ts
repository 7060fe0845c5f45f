/**
 * Rows ⇄ contract messages, in one place. Contract messages are stored as their proto3 JSON form
 * (ts-proto `toJSON`/`fromJSON`), which keeps bigint, Date and bytes exact; SQLite integers come
 * back as JS numbers and become bigint here where the contract says int64.
 */
import { registry } from '@slipway/contracts';
import type * as schema from '../db/schema.js';
import type { ChangeRecord } from './change-log.js';

type ModelVersionRow = typeof schema.modelVersions.$inferSelect;
type EndpointRow = typeof schema.endpoints.$inferSelect;
type AuditRow = typeof schema.auditLog.$inferSelect;
type BatchRunRow = typeof schema.batchRuns.$inferSelect;

/** Serialises a contract message (or anything JSON-able) to compact JSON text. */
function jsonText(value: unknown): string {
  return JSON.stringify(value);
}

/** Splits a lineage into its stored columns: JSON without the profile, the profile bytes, the parent. */
export function lineageToColumns(lineage: registry.Lineage): {
  lineageJson: string;
  referenceProfile: Buffer;
  parentVersion: number | null;
} {
  const { referenceProfile, ...rest } = lineage;
  return {
    lineageJson: jsonText(registry.Lineage.toJSON({ ...rest, referenceProfile: Buffer.alloc(0) })),
    referenceProfile: Buffer.from(referenceProfile),
    parentVersion: lineage.parentVersion > 0 ? lineage.parentVersion : null,
  };
}

/** One tensor as a signature reader reports it: int64 fields as number or bigint. */
export interface TensorSignatureLike {
  readonly name: string;
  readonly datatype: string;
  readonly onnxType: string;
  readonly shape: readonly (number | bigint)[];
  readonly dimParams: readonly string[];
  readonly kind: string;
  /** False when the graph declares no shape at all; when absent, inferred from `shape`. */
  readonly rankKnown?: boolean;
}

/**
 * What a signature reader returns: the contract's `ModelSignature`, or anything of the same shape
 * with numbers for int64 (such as `@slipway/onnx`'s `ModelSignature`; extra fields are ignored).
 */
export interface ModelSignatureLike {
  readonly inputs: readonly TensorSignatureLike[];
  readonly outputs: readonly TensorSignatureLike[];
  readonly opsets: readonly { readonly domain: string; readonly version: number | bigint }[];
  readonly irVersion: number | bigint;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly graphName: string;
}

/** A reader's signature as the contract message. */
export function signatureToContract(signature: ModelSignatureLike): registry.ModelSignature {
  const tensor = (t: TensorSignatureLike): registry.TensorSignature => ({
    name: t.name,
    datatype: t.datatype,
    onnxType: t.onnxType,
    shape: t.shape.map((d) => BigInt(d)),
    dimParams: [...t.dimParams],
    kind: t.kind,
    rankKnown: t.rankKnown ?? t.shape.length > 0,
  });
  return {
    inputs: signature.inputs.map(tensor),
    outputs: signature.outputs.map(tensor),
    opsets: signature.opsets.map((o) => ({ domain: o.domain, version: BigInt(o.version) })),
    irVersion: BigInt(signature.irVersion),
    producerName: signature.producerName,
    producerVersion: signature.producerVersion,
    graphName: signature.graphName,
  };
}

/** A signature as stored. */
export function signatureToJson(signature: registry.ModelSignature): string {
  return jsonText(registry.ModelSignature.toJSON(signature));
}

/** Tags as stored: keys sorted, so equal maps give equal text. */
export function tagsToJson(tags: Readonly<Record<string, string>>): string {
  return jsonText(sortedRecord(tags));
}

/** Tags from their stored form. */
export function tagsFromJson(text: string): Record<string, string> {
  return JSON.parse(text) as Record<string, string>;
}

/** A model version from its row and the aliases pointing at it. */
export function modelVersionFromRow(row: ModelVersionRow, aliases: readonly string[]): registry.ModelVersion {
  const lineage = registry.Lineage.fromJSON(JSON.parse(row.lineageJson));
  lineage.referenceProfile = Buffer.from(row.referenceProfile);
  return {
    model: row.model,
    version: row.version,
    artifactSha256: row.artifactSha256,
    artifactSize: BigInt(row.artifactSize),
    signature: registry.ModelSignature.fromJSON(JSON.parse(row.signatureJson)),
    lineage,
    description: row.description,
    tags: tagsFromJson(row.tagsJson),
    aliases: [...aliases].sort(),
    createdAt: new Date(row.createdAt),
    createdBy: row.createdBy,
  };
}

/**
 * A model version for the audit log: the message's JSON with the reference profile replaced by
 * its size, since profiles can be large and are kept, immutably, in the version itself.
 */
export function modelVersionForAudit(version: registry.ModelVersion): unknown {
  const json = registry.ModelVersion.toJSON(version) as { lineage?: Record<string, unknown> };
  if (json.lineage && 'referenceProfile' in json.lineage) {
    delete json.lineage.referenceProfile;
    json.lineage.referenceProfileBytes = version.lineage?.referenceProfile.length ?? 0;
  }
  return json;
}

/** A deployment as stored (full message, including revision and update stamp). */
export function deploymentToJson(deployment: registry.Deployment): string {
  return jsonText(registry.Deployment.toJSON(deployment));
}

/** A deployment from its stored form. */
export function deploymentFromJson(text: string): registry.Deployment {
  return registry.Deployment.fromJSON(JSON.parse(text));
}

/** Loaded versions as stored: sorted by model then version, so equal sets give equal text. */
export function loadedVersionsToJson(versions: readonly registry.LoadedVersion[]): string {
  const sorted = [...versions].sort((a, b) =>
    a.model === b.model ? a.version - b.version : a.model < b.model ? -1 : 1,
  );
  return jsonText(sorted.map((v) => registry.LoadedVersion.toJSON(v)));
}

/** Labels as stored: keys sorted. */
export function labelsToJson(labels: Readonly<Record<string, string>>): string {
  return jsonText(sortedRecord(labels));
}

/** A worker endpoint from its row. */
export function endpointFromRow(row: EndpointRow): registry.WorkerEndpoint {
  return {
    workerId: row.workerId,
    address: row.address,
    versions: (JSON.parse(row.versionsJson) as unknown[]).map((v) => registry.LoadedVersion.fromJSON(v)),
    labels: JSON.parse(row.labelsJson) as Record<string, string>,
    leaseExpiresAt: new Date(row.leaseExpiresAt),
    registeredAt: new Date(row.registeredAt),
  };
}

/** A worker endpoint as stored in the change feed. */
export function endpointToJson(endpoint: registry.WorkerEndpoint): string {
  return jsonText(registry.WorkerEndpoint.toJSON(endpoint));
}

/** An audit entry from its row. */
export function auditEntryFromRow(row: AuditRow): registry.AuditEntry {
  return {
    seq: BigInt(row.seq),
    time: new Date(row.time),
    actor: row.actor,
    action: row.action,
    target: row.target,
    beforeJson: row.beforeJson,
    afterJson: row.afterJson,
    reason: row.reason,
    traceId: row.traceId,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

/** The Watch event of one change. */
export function changeToWatchResponse(change: ChangeRecord): registry.WatchResponse {
  const payload = change.payloadJson === null ? undefined : (JSON.parse(change.payloadJson) as unknown);
  if (change.kind === 'deployment') {
    return {
      revision: change.revision,
      event: {
        $case: 'deployment',
        deployment: {
          name: change.key,
          deployment: payload === undefined ? undefined : registry.Deployment.fromJSON(payload),
        },
      },
    };
  }
  return {
    revision: change.revision,
    event: {
      $case: 'endpoint',
      endpoint: {
        workerId: change.key,
        endpoint: payload === undefined ? undefined : registry.WorkerEndpoint.fromJSON(payload),
      },
    },
  };
}

/** Snapshot events: one per deployment, then one per endpoint, all at the snapshot's revision. */
export function snapshotEvents(
  revision: bigint,
  deployments: readonly registry.Deployment[],
  endpoints: readonly registry.WorkerEndpoint[],
): registry.WatchResponse[] {
  return [
    ...deployments.map((deployment): registry.WatchResponse => ({
      revision,
      event: { $case: 'deployment', deployment: { name: deployment.name, deployment } },
    })),
    ...endpoints.map((endpoint): registry.WatchResponse => ({
      revision,
      event: { $case: 'endpoint', endpoint: { workerId: endpoint.workerId, endpoint } },
    })),
  ];
}

function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(record).sort()) out[key] = record[key]!;
  return out;
}

/** A batch job as stored. */
export function batchJobToJson(job: registry.BatchJob): string {
  return jsonText(registry.BatchJob.toJSON(job));
}

/** A batch job from its stored form. */
export function batchJobFromJson(text: string): registry.BatchJob {
  return registry.BatchJob.fromJSON(JSON.parse(text));
}

const RUN_STATUS: Readonly<Record<BatchRunRow['status'], registry.BatchRunStatus>> = {
  pending: registry.BatchRunStatus.BATCH_RUN_STATUS_PENDING,
  running: registry.BatchRunStatus.BATCH_RUN_STATUS_RUNNING,
  succeeded: registry.BatchRunStatus.BATCH_RUN_STATUS_SUCCEEDED,
  failed: registry.BatchRunStatus.BATCH_RUN_STATUS_FAILED,
  cancelled: registry.BatchRunStatus.BATCH_RUN_STATUS_CANCELLED,
};

/** `20261127T0200Z`: an occurrence as it appears in paths and audit targets. */
export function occurrenceKey(occurrence: Date): string {
  return occurrence.toISOString().slice(0, 16).replace(/[-:]/g, '') + 'Z';
}

/** A batch run from its row. */
export function batchRunFromRow(row: BatchRunRow): registry.BatchRun {
  const optionalDate = (value: string | null): Date | undefined =>
    value === null ? undefined : new Date(value);
  return {
    runId: BigInt(row.id),
    schedule: row.schedule,
    occurrence: new Date(row.occurrence),
    occurrenceKey: occurrenceKey(new Date(row.occurrence)),
    status: RUN_STATUS[row.status],
    job: batchJobFromJson(row.jobJson),
    workerId: row.workerId,
    leaseExpiresAt: optionalDate(row.leaseExpiresAt),
    attempts: row.attempts,
    skippedOccurrences: row.skippedOccurrences,
    createdAt: new Date(row.createdAt),
    claimedAt: new Date(row.claimedAt),
    finishedAt: optionalDate(row.finishedAt),
    rowsRead: BigInt(row.rowsRead),
    rowsScored: BigInt(row.rowsScored),
    rowsRejected: BigInt(row.rowsRejected),
    outputSha256: row.outputSha256,
    message: row.message,
  };
}
