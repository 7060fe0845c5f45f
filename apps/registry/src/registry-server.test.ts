// The registry over real gRPC on loopback with a fresh SQLite database per test.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { registry } from '@slipway/contracts';
import { InvalidArgumentError, PermissionDeniedError, UnauthenticatedError } from '@slipway/errors';
import { buildLogisticRegression, readModelSignature } from '@slipway/onnx';
import { createClient, createLogger, parseConfig } from '@slipway/service-kit';
import { conformanceDir, createTempDir, skipWithoutConformance } from '@slipway/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registryConfigSchema } from './config.js';
import { createRegistryServer, type RegistryServer } from './registry-server.js';

const TOKENS = 'dep-token=ci:deployer,read-token=rita:reader,admin-token=ada:admin';

interface Running extends RegistryServer {
  address: string;
  dataDir: string;
  models: ReturnType<typeof createClient<typeof registry.ModelServiceService>>;
  anonymous: ReturnType<typeof createClient<typeof registry.ModelServiceService>>;
  reader: ReturnType<typeof createClient<typeof registry.ModelServiceService>>;
}

let running: Running;

beforeEach(async () => {
  const dir = await createTempDir('registry-grpc-');
  const config = parseConfig(registryConfigSchema, {
    SLIPWAY_REGISTRY_ADDR: '127.0.0.1:0',
    SLIPWAY_REGISTRY_DATA_DIR: dir.path,
    SLIPWAY_REGISTRY_TOKENS: TOKENS,
  });
  const built = createRegistryServer(config, createLogger('registry', { level: 'warn' }));
  const { address } = await built.server.start();
  running = {
    ...built,
    address,
    dataDir: dir.path,
    models: createClient(registry.ModelServiceService, address, { token: 'dep-token' }),
    anonymous: createClient(registry.ModelServiceService, address),
    reader: createClient(registry.ModelServiceService, address, { token: 'read-token' }),
  };
});

afterEach(async () => {
  running.models.close();
  running.anonymous.close();
  running.reader.close();
  await running.server.shutdown('test done');
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function* upload(
  model: string,
  bytes: Uint8Array,
  declared: { sha256?: string; size?: number } = {},
  chunkBytes = 64 * 1024,
): AsyncIterable<registry.RegisterModelVersionRequest> {
  yield {
    part: {
      $case: 'header',
      header: {
        model,
        sha256: declared.sha256 ?? sha256(bytes),
        size: BigInt(declared.size ?? bytes.length),
        lineage: undefined,
        description: '',
        tags: {},
      },
    },
  };
  for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
    yield { part: { $case: 'chunk', chunk: bytes.subarray(offset, offset + chunkBytes) } };
  }
}

/** Every file in the artifact store, final or temporary. */
function storedFiles(): string[] {
  const root = path.join(running.dataDir, 'artifacts');
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name));
      else out.push(path.join(dir, entry.name));
    }
  };
  walk(root);
  return out;
}

const model = buildLogisticRegression({ weights: [0.5, -1.25, 2], bias: 0.1 }).bytes;

describe('registering versions', () => {
  it('stores the artifact content-addressed and reads the signature from the graph', async () => {
    const { version } = await running.models.registerModelVersion(upload('fraud', model));
    expect(version).toMatchObject({
      model: 'fraud',
      version: 1,
      artifactSha256: sha256(model),
      createdBy: 'ci',
    });
    expect(version!.signature!.inputs).toEqual([
      expect.objectContaining({
        name: 'input',
        datatype: 'FP32',
        shape: [-1n, 3n],
        kind: 'tensor',
        rankKnown: true,
      }),
    ]);
    expect(storedFiles()).toEqual([
      path.join(running.dataDir, 'artifacts/sha256', sha256(model).slice(0, 2), sha256(model)),
    ]);

    const chunks: Uint8Array[] = [];
    let header: registry.DownloadArtifactResponse_Header | undefined;
    for await (const part of running.anonymous.downloadArtifact({ model: 'fraud', version: 1, sha256: '' })) {
      if (part.part?.$case === 'header') header = part.part.header;
      else if (part.part?.$case === 'chunk') chunks.push(part.part.chunk);
    }
    expect(header).toEqual({ sha256: sha256(model), size: BigInt(model.length) });
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(model));
  });

  it('refuses a corrupted upload (sha256 mismatch) and leaves nothing behind', async () => {
    const corrupted = Uint8Array.from(model);
    corrupted[100] ^= 0xff;
    await expect(
      running.models.registerModelVersion(upload('fraud', corrupted, { sha256: sha256(model) })),
    ).rejects.toThrow(InvalidArgumentError);
    await expect(
      running.models.registerModelVersion(upload('fraud', corrupted, { sha256: sha256(model) })),
    ).rejects.toThrow(/sha256/);
    expect(storedFiles()).toEqual([]);
    await expect(running.models.listModelVersions({ model: 'fraud' })).rejects.toThrow(/does not exist/);
  });

  it('refuses a truncated upload (fewer bytes than declared) and leaves nothing behind', async () => {
    const truncated = model.subarray(0, model.length - 10);
    await expect(
      running.models.registerModelVersion(
        upload('fraud', truncated, { sha256: sha256(model), size: model.length }),
      ),
    ).rejects.toThrow(/bytes/);
    expect(storedFiles()).toEqual([]);
  });

  it('refuses a file that is not an ONNX model with INVALID_ARGUMENT saying why, and leaves nothing', async () => {
    const notOnnx = new TextEncoder().encode('name,amount\nu1,3.5\n'.repeat(50));
    const failure = running.models.registerModelVersion(upload('fraud', notOnnx));
    await expect(failure).rejects.toThrow(InvalidArgumentError);
    await expect(running.models.registerModelVersion(upload('fraud', notOnnx))).rejects.toThrow(
      /not a valid ONNX model/,
    );
    expect(storedFiles()).toEqual([]);
  });

  it('gives concurrent registrations of one model distinct version numbers', async () => {
    const variants = Array.from(
      { length: 8 },
      (_, i) => buildLogisticRegression({ weights: [i, 1, 2], bias: i }).bytes,
    );
    const results = await Promise.all(
      variants.map((bytes) => running.models.registerModelVersion(upload('fraud', bytes))),
    );
    const numbers = results.map((r) => r.version!.version).sort((a, b) => a - b);
    expect(numbers).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const [i, r] of results.entries()) expect(r.version!.artifactSha256).toBe(sha256(variants[i]!));
  });

  it('keeps lineage immutable in the database itself', async () => {
    await running.models.registerModelVersion(upload('fraud', model));
    const raw = new Database(path.join(running.dataDir, 'registry.db'));
    try {
      expect(() =>
        raw
          .prepare(
            `UPDATE model_versions SET lineage_json = '{"codeVersion":"forged"}' WHERE model = 'fraud'`,
          )
          .run(),
      ).toThrow(/immutable/i);
      expect(() => raw.prepare(`DELETE FROM model_versions WHERE model = 'fraud'`).run()).toThrow();
    } finally {
      raw.close();
    }
  });

  it('refuses mutations without a deployer token: UNAUTHENTICATED anonymous, PERMISSION_DENIED for readers', async () => {
    await expect(running.anonymous.registerModelVersion(upload('fraud', model))).rejects.toThrow(
      UnauthenticatedError,
    );
    await expect(running.reader.registerModelVersion(upload('fraud', model))).rejects.toThrow(
      PermissionDeniedError,
    );
    await running.models.registerModelVersion(upload('fraud', model));
    await expect(
      running.anonymous.setAlias({ model: 'fraud', alias: 'champion', version: 1, reason: '' }),
    ).rejects.toThrow(UnauthenticatedError);
    await expect(
      running.reader.setAlias({ model: 'fraud', alias: 'champion', version: 1, reason: '' }),
    ).rejects.toThrow(PermissionDeniedError);
    await expect(running.anonymous.listModels({})).resolves.toMatchObject({ models: [{ name: 'fraud' }] });
    expect(storedFiles()).toHaveLength(1);
  });

  it('moves aliases with an audit entry naming the actor', async () => {
    await running.models.registerModelVersion(upload('fraud', model));
    await running.models.registerModelVersion(
      upload('fraud', buildLogisticRegression({ weights: [1, 1, 1], bias: 0 }).bytes),
    );
    await running.models.setAlias({ model: 'fraud', alias: 'champion', version: 1, reason: 'first' });
    await expect(
      running.models.setAlias({ model: 'fraud', alias: 'champion', version: 2, reason: 'better AUC' }),
    ).resolves.toEqual({
      previousVersion: 1,
    });
    await expect(
      running.anonymous.getModelVersion({ model: 'fraud', version: 0, alias: 'champion' }),
    ).resolves.toMatchObject({
      version: { version: 2, aliases: ['champion'] },
    });
    const audit = createClient(registry.AuditServiceService, running.address);
    try {
      const { entries } = await audit.listAuditEntries({
        targetPrefix: 'model/fraud',
        action: 'model.alias.set',
        afterSeq: 0n,
        descending: true,
        limit: 10,
      });
      expect(entries[0]).toMatchObject({ actor: 'ci', reason: 'better AUC' });
      await expect(audit.verifyAuditLog({})).resolves.toMatchObject({ ok: true });
    } finally {
      audit.close();
    }
  });

  it('names the latest version when a version does not exist', async () => {
    await running.models.registerModelVersion(upload('fraud', model));
    await expect(
      running.anonymous.getModelVersion({ model: 'fraud', version: 9, alias: '' }),
    ).rejects.toThrow(/no version 9.*latest is 1/);
  });
});

describe.skipIf(skipWithoutConformance())('every conformance model', () => {
  const root = path.join(conformanceDir() ?? '', 'models');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.onnx')) files.push(full);
    }
  };
  if (conformanceDir()) walk(root);

  it.each(files.map((f) => [path.relative(root, f), f]))(
    '%s registers with its graph signature or is refused clearly',
    async (name, file) => {
      const bytes = readFileSync(file);
      const graph = readModelSignature(bytes);
      const nonTensor = graph.inputs.find((i) => i.kind !== 'tensor');
      const modelName = name
        .replace(/[^a-z0-9]+/gi, '-')
        .toLowerCase()
        .slice(0, 60)
        .replace(/^-+/, '');
      if (nonTensor) {
        await expect(running.models.registerModelVersion(upload(modelName, bytes))).rejects.toThrow(
          new RegExp(`input "${nonTensor.name}" is map`),
        );
        return;
      }
      const { version } = await running.models.registerModelVersion(upload(modelName, bytes));
      const signature = version!.signature!;
      const simplify = (t: {
        name: string;
        datatype: string;
        kind: string;
        shape: ReadonlyArray<number | bigint>;
        rankKnown: boolean;
      }) => ({
        name: t.name,
        datatype: t.datatype,
        kind: t.kind,
        shape: t.shape.map(Number),
        rankKnown: t.rankKnown,
      });
      expect(signature.inputs.map(simplify)).toEqual(graph.inputs.map(simplify));
      expect(signature.outputs.map(simplify)).toEqual(graph.outputs.map(simplify));
      expect(signature.opsets.map((o) => [o.domain, Number(o.version)])).toEqual(
        graph.opsets.map((o) => [o.domain, o.version]),
      );
    },
  );
});
