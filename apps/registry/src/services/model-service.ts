import { type registry } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import { readModelSignature, type ModelSignature } from '@slipway/onnx';
import type { CallContext, ServiceImplementation, ServicePolicy } from '@slipway/service-kit';
import { currentTraceId } from '@slipway/telemetry';
import type { RegistryDomain } from '../domain/index.js';

type Definition = typeof registry.ModelServiceService;

/** Chunks of DownloadArtifact; large enough to amortise framing, small enough for any channel. */
const DOWNLOAD_CHUNK_BYTES = 256 * 1024;

/** Reads are open; registering and changing versions and aliases needs the deployer role. */
export const modelPolicy: ServicePolicy<Definition> = {
  registerModelVersion: 'deployer',
  updateModelVersion: 'deployer',
  setAlias: 'deployer',
  deleteAlias: 'deployer',
};

/**
 * Reads the graph's signature and refuses what Slipway cannot serve: an input that is not a
 * tensor (e.g. a map) or whose element type has no Open Inference Protocol datatype.
 */
export function readServableSignature(bytes: Uint8Array): ModelSignature {
  const signature = readModelSignature(bytes);
  for (const input of signature.inputs) {
    if (input.kind !== 'tensor') {
      throw new InvalidArgumentError(
        `input "${input.name}" is ${input.kind}; Slipway serves models whose inputs are all tensors (export the model without the non-tensor input, e.g. drop DictVectorizer)`,
      );
    }
    if (!input.datatype) {
      throw new InvalidArgumentError(
        `input "${input.name}" has element type ${input.onnxType}, which the Open Inference Protocol cannot carry`,
      );
    }
  }
  return signature;
}

/** Who did it, for the audit log. */
export function auditContext(
  ctx: CallContext,
  reason = '',
): { actor: string; traceId?: string; reason: string } {
  return { actor: ctx.principal?.actor ?? 'anonymous', traceId: currentTraceId(), reason };
}

/** `slipway.registry.v1.ModelService` over the registry domain. */
export function createModelService(
  domain: RegistryDomain,
  options: { maxArtifactBytes: number },
): ServiceImplementation<Definition> {
  return {
    async registerModelVersion(requests, ctx) {
      const iterator = requests[Symbol.asyncIterator]();
      const first = await iterator.next();
      if (first.done || first.value.part?.$case !== 'header') {
        throw new InvalidArgumentError(
          'the first RegisterModelVersion message must carry the header (model, sha256, size, lineage); chunks follow it',
        );
      }
      const header = first.value.part.header;
      const size = Number(header.size);
      if (size > options.maxArtifactBytes) {
        throw new InvalidArgumentError(
          `declared size ${size} bytes exceeds the registry's limit of ${options.maxArtifactBytes} bytes (SLIPWAY_REGISTRY_MAX_ARTIFACT_BYTES)`,
        );
      }
      const upload = await domain.artifacts.beginUpload({
        expectedSha256: header.sha256,
        expectedSize: size,
      });
      let committed;
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done) break;
          if (next.value.part?.$case !== 'chunk') {
            throw new InvalidArgumentError('only chunks may follow the header in RegisterModelVersion');
          }
          await upload.write(next.value.part.chunk);
        }
        committed = await upload.commit();
      } catch (err) {
        await upload.abort();
        throw err;
      }
      try {
        const version = await domain.models.registerVersion(
          {
            model: header.model,
            sha256: committed.sha256,
            size: committed.size,
            lineage: header.lineage,
            description: header.description,
            tags: header.tags,
            ...auditContext(ctx),
          },
          readServableSignature,
        );
        return { version };
      } catch (err) {
        // A fresh file that did not become a version (e.g. not an ONNX model) leaves nothing behind.
        if (!committed.deduplicated) await domain.artifacts.remove(committed.sha256);
        throw err;
      }
    },

    async getModelVersion(req) {
      const ref = req.alias || req.version || 'latest';
      return { version: domain.models.getVersion(req.model, ref) };
    },

    async listModels() {
      return { models: domain.models.listModels() };
    },

    async listModelVersions(req) {
      return { versions: domain.models.listVersions(req.model) };
    },

    async updateModelVersion(req, ctx) {
      const version = domain.models.updateVersion({
        model: req.model,
        version: req.version,
        description: req.description,
        setTags: req.setTags,
        removeTags: req.removeTags,
        ...auditContext(ctx, req.reason),
      });
      return { version };
    },

    async setAlias(req, ctx) {
      return domain.models.setAlias({
        model: req.model,
        alias: req.alias,
        version: req.version,
        ...auditContext(ctx, req.reason),
      });
    },

    async deleteAlias(req, ctx) {
      return domain.models.deleteAlias({
        model: req.model,
        alias: req.alias,
        ...auditContext(ctx, req.reason),
      });
    },

    async *downloadArtifact(req, ctx) {
      const sha256 =
        req.sha256 || domain.models.getVersion(req.model, req.version || 'latest').artifactSha256;
      const { stream, size } = domain.artifacts.openRead(sha256);
      yield { part: { $case: 'header', header: { sha256, size: BigInt(size) } } };
      try {
        for await (const chunk of stream) {
          if (ctx.signal.aborted) return;
          const bytes = chunk as Buffer;
          for (let offset = 0; offset < bytes.length; offset += DOWNLOAD_CHUNK_BYTES) {
            yield { part: { $case: 'chunk', chunk: bytes.subarray(offset, offset + DOWNLOAD_CHUNK_BYTES) } };
          }
        }
      } finally {
        stream.destroy();
      }
    },
  };
}
