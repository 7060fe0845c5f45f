import { execFileSync } from 'node:child_process';
import type { registry } from '@slipway/contracts';
import type { TrainedModel } from './pipeline.js';

/** Facts about the run that the trained model does not know. */
export interface LineageContext {
  /** See {@link resolveCodeVersion}. */
  readonly codeVersion: string;
  /** The version this one was retrained from; 0 for none. */
  readonly parentVersion?: number;
}

/**
 * The code version recorded in lineage: `SLIPWAY_CODE_VERSION` when set, else `git rev-parse HEAD`
 * in `cwd` when git and a repository are there, else `''`.
 */
export function resolveCodeVersion(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const fromEnv = env['SLIPWAY_CODE_VERSION'];
  if (fromEnv) return fromEnv;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    }).trim();
  } catch {
    // Not a checkout, or no git: lineage says "unknown" rather than failing the run.
    return '';
  }
}

/**
 * The registry lineage of a trained model: data snapshot, fitted feature-set reference and hash,
 * params, code version, parent version, holdout and train metrics, and the reference profile.
 */
export function buildLineage(trained: TrainedModel, context: LineageContext): registry.Lineage {
  const s = trained.snapshot;
  return {
    dataSnapshot: {
      sha256: s.sha256,
      rowCount: BigInt(s.rowCount),
      startTime: s.startTime,
      endTime: s.endTime,
      location: s.location,
    },
    featureSet: {
      name: trained.fitted.spec.name,
      version: trained.fitted.spec.version,
      contentHash: trained.fitted.contentHash,
    },
    params: structuredClone(trained.params) as Record<string, unknown>,
    codeVersion: context.codeVersion,
    parentVersion: context.parentVersion ?? 0,
    metrics: trained.metrics.map((m) => ({ ...m })),
    referenceProfile: trained.referenceProfile,
  };
}
