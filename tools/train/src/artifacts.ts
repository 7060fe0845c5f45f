import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { registry } from '@slipway/contracts';
import type { Evaluation, TrainedModel } from './pipeline.js';

/** The files {@link writeArtifacts} writes, by role. */
export const ARTIFACT_FILES = {
  model: 'model.onnx',
  featureSet: 'feature-set.json',
  metrics: 'metrics.json',
  lineage: 'lineage.json',
  referenceProfile: 'reference-profile.json',
} as const;

function evaluationJson(e: Evaluation) {
  return {
    rows: e.rows,
    positiveRate: e.positiveRate,
    auc: e.auc,
    logLoss: e.logLoss,
    accuracy: e.accuracy,
    brier: e.brier,
    ece: e.calibration.ece,
    mce: e.calibration.mce,
    reliability: e.calibration.bins,
  };
}

/** The content of `metrics.json`: evaluation of both parts, the input columns and the export check. */
export function metricsReport(trained: TrainedModel): Record<string, unknown> {
  return {
    algorithm: trained.classifier.algorithm,
    featureSet: {
      name: trained.fitted.spec.name,
      version: trained.fitted.spec.version,
      contentHash: trained.fitted.contentHash,
    },
    input: trained.params['input'],
    split: trained.params['split'],
    holdout: evaluationJson(trained.evaluation.holdout),
    train: evaluationJson(trained.evaluation.train),
    maxOnnxDeviation: trained.maxOnnxDeviation,
  };
}

/**
 * Writes a trained model to `dir` (created if needed): `model.onnx`; `feature-set.json`, the
 * serialised fitted feature set byte for byte (what the feature service registers; its hash is
 * the lineage's); `metrics.json`; `lineage.json` (protobuf JSON of the registry Lineage, the
 * profile base64); and `reference-profile.json` (the profile bytes as they are). Returns the paths.
 */
export async function writeArtifacts(
  dir: string,
  trained: TrainedModel,
  lineage: registry.Lineage,
): Promise<Record<keyof typeof ARTIFACT_FILES, string>> {
  await mkdir(dir, { recursive: true });
  const at = (name: string) => path.join(dir, name);
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  await writeFile(at(ARTIFACT_FILES.model), trained.onnx);
  await writeFile(at(ARTIFACT_FILES.featureSet), trained.featureSetJson, 'utf8');
  await writeFile(at(ARTIFACT_FILES.metrics), json(metricsReport(trained)), 'utf8');
  await writeFile(at(ARTIFACT_FILES.lineage), json(registry.Lineage.toJSON(lineage)), 'utf8');
  await writeFile(at(ARTIFACT_FILES.referenceProfile), trained.referenceProfile);
  return {
    model: at(ARTIFACT_FILES.model),
    featureSet: at(ARTIFACT_FILES.featureSet),
    metrics: at(ARTIFACT_FILES.metrics),
    lineage: at(ARTIFACT_FILES.lineage),
    referenceProfile: at(ARTIFACT_FILES.referenceProfile),
  };
}
