import { registry, type features } from '@slipway/contracts';
import { FailedPreconditionError, NotFoundError } from '@slipway/errors';
import { parseFitted, type FittedFeatureSet } from '@slipway/features';
import type { ServiceClient } from '@slipway/service-kit';

/** The model version a run scores with, and the feature set it was trained on. */
export interface ResolvedVersion {
  readonly deployment: string;
  /** The deployment's variant serving this version ('stable' unless pinned), for monitor records. */
  readonly variant: string;
  readonly model: string;
  readonly version: number;
  readonly artifactSha256: string;
  readonly artifactSize: number;
  readonly featureSet: { readonly name: string; readonly version: number; readonly contentHash: string };
}

/** Variant name of monitor records when a pinned version is not one of the deployment's variants. */
export const PINNED_VARIANT = 'batch-pinned';

/**
 * The version to score with: the deployment's stable variant, or `version` of the stable
 * variant's model when pinned, as the registry records it.
 *
 * @throws NotFoundError when the deployment or version does not exist.
 * @throws FailedPreconditionError when the deployment has no stable variant, or the version was
 *   registered without a feature set.
 */
export async function resolveVersion(
  models: ServiceClient<typeof registry.ModelServiceService>,
  deployments: ServiceClient<typeof registry.DeploymentServiceService>,
  deployment: string,
  pinned: number | undefined,
): Promise<ResolvedVersion> {
  const { deployment: found } = await deployments.getDeployment({ name: deployment });
  if (!found) throw new NotFoundError(`deployment "${deployment}" does not exist`);
  const stable = found.variants.find((v) => v.role === registry.VariantRole.VARIANT_ROLE_STABLE);
  if (!stable) {
    throw new FailedPreconditionError(
      `deployment "${deployment}" has no stable variant to score with; deploy a version first`,
    );
  }
  const versionNumber = pinned ?? stable.version;
  const { version } = await models.getModelVersion({
    model: stable.model,
    version: versionNumber,
    alias: '',
  });
  if (!version) throw new NotFoundError(`model "${stable.model}" has no version ${versionNumber}`);
  const fs = version.lineage?.featureSet;
  if (!fs?.name) {
    throw new FailedPreconditionError(
      `model "${version.model}" version ${version.version} was registered without a feature set, so batch scoring cannot build its input; register it with --feature-set`,
    );
  }
  const variant =
    found.variants.find((v) => v.model === version.model && v.version === version.version)?.name ??
    PINNED_VARIANT;
  return {
    deployment,
    variant,
    model: version.model,
    version: version.version,
    artifactSha256: version.artifactSha256,
    artifactSize: Number(version.artifactSize),
    featureSet: { name: fs.name, version: fs.version, contentHash: fs.contentHash },
  };
}

/**
 * The fitted feature set a version was trained on, from the feature service, checked against
 * the content hash the version records (and its own hash, by parseFitted).
 */
export async function fetchFeatureSet(
  client: ServiceClient<typeof features.FeatureServiceService>,
  ref: ResolvedVersion['featureSet'],
): Promise<FittedFeatureSet> {
  const response = await client.getFeatureSet({ name: ref.name, version: ref.version });
  const hash = response.featureSet?.contentHash;
  if (hash !== ref.contentHash) {
    throw new FailedPreconditionError(
      `feature set "${ref.name}" v${ref.version} has content hash ${hash} in the feature service but the model records ${ref.contentHash}; register the fitted set the model was trained with`,
    );
  }
  return parseFitted(response.fittedJson);
}
