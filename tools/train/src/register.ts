import { createHash } from 'node:crypto';
import { registry } from '@slipway/contracts';
import { uploadModelVersion } from '@slipway/registry-client';
import { createClient } from '@slipway/service-kit';

/** What training needs from the registry: register a version, optionally deploy it. */
export interface ModelRegistrar {
  /** Uploads the artifact with its header (lineage included) and returns the new version. */
  register(
    header: registry.RegisterModelVersionRequest_Header,
    artifact: Uint8Array,
  ): Promise<registry.ModelVersion>;
  /** Points deployment `name` at one version (direct strategy, 100 %); returns its revision. */
  deploy(name: string, version: registry.ModelVersion, reason: string): Promise<bigint>;
  close(): void;
}

/** Options of {@link createGrpcRegistrar}. */
export interface GrpcRegistrarOptions {
  /** `host:port` of the registry. */
  readonly address: string;
  readonly token?: string;
}

/** A {@link ModelRegistrar} over the registry's gRPC ModelService and DeploymentService. */
export function createGrpcRegistrar(options: GrpcRegistrarOptions): ModelRegistrar {
  const clientOptions = options.token === undefined ? {} : { token: options.token };
  const models = createClient(registry.ModelServiceService, options.address, clientOptions);
  const deployments = createClient(registry.DeploymentServiceService, options.address, clientOptions);
  return {
    register: (header, artifact) => uploadModelVersion(models, header, [artifact]),
    async deploy(name, version, reason) {
      const { deployment } = await deployments.applyDeployment({
        deployment: registry.Deployment.fromPartial({
          name,
          description: `created by slipway train: ${version.model}@${version.version}`,
          decisionThreshold: 0.5,
          variants: [
            {
              name: 'stable',
              model: version.model,
              version: version.version,
              role: registry.VariantRole.VARIANT_ROLE_STABLE,
              weight: 100,
            },
          ],
          strategy: { kind: registry.StrategyKind.STRATEGY_KIND_DIRECT },
        }),
        expectedRevision: 0n,
        reason,
      });
      return deployment!.revision;
    },
    close() {
      models.close();
      deployments.close();
    },
  };
}

/** The registration header of an ONNX artifact: content address, size, lineage, description, tags. */
export function registrationHeader(
  model: string,
  artifact: Uint8Array,
  lineage: registry.Lineage,
  description: string,
  tags: Record<string, string>,
): registry.RegisterModelVersionRequest_Header {
  return {
    model,
    sha256: createHash('sha256').update(artifact).digest('hex'),
    size: BigInt(artifact.length),
    lineage,
    description,
    tags,
  };
}
