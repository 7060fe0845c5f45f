import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { registry } from '@slipway/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestRegistry,
  FAKE_SIGNATURE,
  fakeReadSignature,
  registerTestVersion,
  storeArtifact,
  type TestRegistry,
} from '../testing/fixtures.js';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@slipway/errors';

describe('model registry', () => {
  let reg: TestRegistry;
  beforeEach(() => {
    reg = createTestRegistry();
  });
  afterEach(() => reg.cleanup());

  const lineage = registry.Lineage.fromPartial({
    dataSnapshot: {
      sha256: 'd'.repeat(64),
      rowCount: 12345n,
      startTime: new Date('2029-01-01T00:00:00Z'),
      endTime: new Date('2029-06-01T00:00:00Z'),
      location: 's3://x',
    },
    featureSet: { name: 'fraud-features', version: 3, contentHash: 'f'.repeat(64) },
    params: { lr: 0.1, layers: [16, 8], name: 'mlp' },
    codeVersion: 'git:abc123',
    metrics: [{ name: 'auc', value: 0.91, dataset: 'holdout' }],
    referenceProfile: Buffer.from('{"profile":[1,2,3]}'),
  });

  describe('registerVersion', () => {
    it('numbers versions 1, 2, 3 per model and stores lineage, signature and tags', async () => {
      const bytes = Buffer.from('model one');
      const { sha256, size } = await storeArtifact(reg.domain, bytes);
      const v1 = await reg.domain.models.registerVersion(
        {
          model: 'fraud',
          sha256,
          size: BigInt(size),
          lineage,
          description: 'first',
          tags: { team: 'risk' },
          actor: 'alice',
          traceId: 't-1',
        },
        fakeReadSignature,
      );
      expect(v1).toEqual({
        model: 'fraud',
        version: 1,
        artifactSha256: sha256,
        artifactSize: BigInt(size),
        signature: FAKE_SIGNATURE,
        lineage,
        description: 'first',
        tags: { team: 'risk' },
        aliases: [],
        createdAt: reg.clock.now(),
        createdBy: 'alice',
      });
      expect((await registerTestVersion(reg.domain, 'fraud')).version).toBe(2);
      expect((await registerTestVersion(reg.domain, 'churn')).version).toBe(1);
      expect(
        (await registerTestVersion(reg.domain, 'fraud', { lineage: { ...lineage, parentVersion: 2 } }))
          .version,
      ).toBe(3);
      expect(reg.domain.models.getVersion('fraud', 1)).toEqual(v1);
    });

    it('converts a reader signature with plain numbers (as @slipway/onnx returns) into the contract', async () => {
      const { sha256, size } = await storeArtifact(reg.domain, Buffer.from('x'));
      const numeric = {
        inputs: [
          {
            name: 'x',
            datatype: 'FP32',
            onnxType: 'FLOAT',
            shape: [-1, 3],
            dimParams: ['n', ''],
            kind: 'tensor',
            rankKnown: true,
          },
        ],
        outputs: [],
        opsets: [{ domain: '', version: 17 }],
        irVersion: 8,
        producerName: 'p',
        producerVersion: '1',
        graphName: 'g',
        metadata: {},
      };
      const v = await reg.domain.models.registerVersion(
        { model: 'm', sha256, size, actor: 'a' },
        () => numeric,
      );
      expect(v.signature?.inputs[0]?.shape).toEqual([-1n, 3n]);
      expect(v.signature?.irVersion).toBe(8n);
    });

    it('audits the registration in the same transaction', async () => {
      const v = await registerTestVersion(reg.domain, 'fraud', {
        reason: 'weekly retrain',
        traceId: 'abc',
        lineage,
      });
      const [entry] = reg.domain.audit.list({ action: 'model.register' });
      expect(entry).toMatchObject({
        actor: 'alice',
        target: 'model/fraud@1',
        reason: 'weekly retrain',
        traceId: 'abc',
        beforeJson: '',
      });
      const after = JSON.parse(entry!.afterJson);
      expect(after).toMatchObject({ model: 'fraud', version: 1, artifactSha256: v.artifactSha256 });
      expect(after.lineage.referenceProfileBytes).toBe(lineage.referenceProfile.length);
      expect(after.lineage.referenceProfile).toBeUndefined();
    });

    it('lists every input problem at once', async () => {
      const error = await reg.domain.models
        .registerVersion(
          { model: 'Fraud!', sha256: 'xyz', size: -1, tags: { '': 'v' }, actor: 'a' },
          fakeReadSignature,
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toBe(
        'cannot register a version of model "Fraud!" (4 problems): ' +
          '1) model name "Fraud!" is invalid: use 1-63 characters of a-z, 0-9, "_", "." or "-", starting with a letter or digit; ' +
          '2) "xyz" is not a sha256 digest (expected 64 hex characters); ' +
          '3) size -1 is not a valid byte count; ' +
          '4) tag key "" is invalid (use 1-128 non-blank characters)',
      );
    });

    it('needs the artifact in the store, with the declared size', async () => {
      const { sha256, size } = await storeArtifact(reg.domain, Buffer.from('abc'));
      await expect(
        reg.domain.models.registerVersion(
          { model: 'm', sha256: 'a'.repeat(64), size: 3, actor: 'a' },
          fakeReadSignature,
        ),
      ).rejects.toThrow(
        new FailedPreconditionError(
          `artifact sha256:${'a'.repeat(64)} is not in the store (upload the file before registering it)`,
        ),
      );
      await expect(
        reg.domain.models.registerVersion(
          { model: 'm', sha256, size: size + 1, actor: 'a' },
          fakeReadSignature,
        ),
      ).rejects.toThrow(
        new InvalidArgumentError(
          `artifact sha256:${sha256} has 3 bytes but 4 were declared (declare the real size)`,
        ),
      );
    });

    it("turns the signature reader's error into InvalidArgumentError and registers nothing", async () => {
      const { sha256, size } = await storeArtifact(reg.domain, Buffer.from('not onnx'));
      const cause = new Error('field 1 (ir_version) is missing');
      const error = await reg.domain.models
        .registerVersion({ model: 'm', sha256, size, actor: 'a' }, () => {
          throw cause;
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toBe(
        `artifact sha256:${sha256} is not a valid ONNX model: field 1 (ir_version) is missing (upload the .onnx file the training run produced)`,
      );
      expect((error as Error).cause).toBe(cause);
      expect(reg.domain.models.listModels()).toEqual([]);
      expect(reg.domain.audit.list()).toEqual([]);
    });

    it('requires a lineage parent to exist', async () => {
      await expect(
        registerTestVersion(reg.domain, 'fraud', { lineage: { ...lineage, parentVersion: 1 } }),
      ).rejects.toThrow(
        new InvalidArgumentError(
          'model "fraud" has no version 1 to be the parent of the new version (it has no versions yet)',
        ),
      );
      await registerTestVersion(reg.domain, 'fraud');
      await expect(
        registerTestVersion(reg.domain, 'fraud', { lineage: { ...lineage, parentVersion: 5 } }),
      ).rejects.toThrow(
        new InvalidArgumentError(
          'model "fraud" has no version 5 to be the parent of the new version (latest is 1)',
        ),
      );
      expect(reg.domain.models.listVersions('fraud')).toHaveLength(1);
      // A failed registration left no model row behind either.
      expect(reg.database.sqlite.prepare('SELECT count(*) AS n FROM models').get()).toEqual({ n: 1 });
    });

    it('gives distinct numbers to registrations interleaved over two connections to one file', async () => {
      const other = reg.openAnother();
      const domains = [reg.domain, other.domain];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => registerTestVersion(domains[i % 2]!, 'fraud')),
      );
      expect(results.map((v) => v.version).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      expect(other.domain.models.listVersions('fraud')).toHaveLength(20);
    });

    it('gives distinct numbers to registrations from concurrent processes', async () => {
      const script = fileURLToPath(new URL('../testing/register-many.ts', import.meta.url));
      const run = promisify(execFile);
      const children = [0, 1, 2].map((i) => {
        // Separate artifact directories: each process sweeps its store's tmp/ at start.
        const dataDir = join(reg.dataDir, `proc-${i}`);
        mkdirSync(dataDir);
        return run(
          process.execPath,
          ['--import', 'tsx', '--conditions=@slipway/source', script, dataDir, reg.dbFile, 'fraud', '15'],
          {
            cwd: fileURLToPath(new URL('../../../..', import.meta.url)),
          },
        );
      });
      const outputs = await Promise.all(children);
      const numbers = outputs.flatMap((o) => JSON.parse(o.stdout) as number[]);
      expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
      expect(reg.domain.audit.verify()).toMatchObject({ ok: true, entriesChecked: 45n });
    });
  });

  describe('immutability in the database', () => {
    it('refuses raw UPDATEs of lineage, artifact, signature, number or model, and DELETE', async () => {
      await registerTestVersion(reg.domain, 'fraud', { lineage });
      await registerTestVersion(reg.domain, 'fraud');
      const sqlite = reg.database.sqlite;
      const attempts = [
        `UPDATE model_versions SET lineage_json = '{}' WHERE version = 1`,
        `UPDATE model_versions SET reference_profile = x'00' WHERE version = 1`,
        `UPDATE model_versions SET artifact_sha256 = '${'0'.repeat(64)}' WHERE version = 1`,
        `UPDATE model_versions SET artifact_size = 1 WHERE version = 1`,
        `UPDATE model_versions SET signature_json = '{}' WHERE version = 1`,
        `UPDATE model_versions SET version = 9 WHERE version = 1`,
        `UPDATE model_versions SET parent_version = 2 WHERE version = 1`,
        `UPDATE model_versions SET model = 'other' WHERE version = 1`,
      ];
      for (const statement of attempts)
        expect(() => sqlite.prepare(statement).run(), statement).toThrow(/model versions are immutable/);
      expect(() => sqlite.prepare('DELETE FROM model_versions WHERE version = 2').run()).toThrow(
        /cannot be deleted/,
      );
      sqlite
        .prepare(
          'UPDATE model_versions SET description = \'ok\', tags_json = \'{"a":"b"}\' WHERE version = 1',
        )
        .run();
      expect(reg.domain.models.getVersion('fraud', 1)).toMatchObject({
        description: 'ok',
        tags: { a: 'b' },
        lineage,
      });
    });
  });

  describe('reads', () => {
    beforeEach(async () => {
      for (let i = 0; i < 3; i += 1) await registerTestVersion(reg.domain, 'fraud');
      await registerTestVersion(reg.domain, 'churn');
      reg.domain.models.setAlias({ model: 'fraud', alias: 'champion', version: 2, actor: 'bob' });
      reg.domain.models.setAlias({ model: 'fraud', alias: 'challenger', version: 3, actor: 'bob' });
    });

    it('getVersion by number, alias and latest', () => {
      const models = reg.domain.models;
      expect(models.getVersion('fraud').version).toBe(3);
      expect(models.getVersion('fraud', 0).version).toBe(3);
      expect(models.getVersion('fraud', 'latest').aliases).toEqual(['challenger']);
      expect(models.getVersion('fraud', 'champion')).toMatchObject({ version: 2, aliases: ['champion'] });
      expect(models.getVersion('fraud', 1).aliases).toEqual([]);
    });

    it('NotFoundError names the latest version or the known aliases', () => {
      const models = reg.domain.models;
      expect(() => models.getVersion('fraud', 9)).toThrow(
        new NotFoundError('model "fraud" has no version 9 (latest is 3)'),
      );
      expect(() => models.getVersion('fraud', 'stable')).toThrow(
        new NotFoundError('model "fraud" has no alias "stable" (its aliases are challenger, champion)'),
      );
      expect(() => models.getVersion('churn', 'x')).toThrow(
        new NotFoundError('model "churn" has no alias "x" (it has no aliases; set one first)'),
      );
      expect(() => models.getVersion('nope')).toThrow(
        new NotFoundError('model "nope" does not exist (register a version of it first)'),
      );
      expect(() => models.listVersions('nope')).toThrow(NotFoundError);
    });

    it('listModels summarises every model', () => {
      expect(reg.domain.models.listModels()).toEqual([
        { name: 'churn', latestVersion: 1, versionCount: 1, aliases: {}, updatedAt: reg.clock.now() },
        {
          name: 'fraud',
          latestVersion: 3,
          versionCount: 3,
          aliases: { champion: 2, challenger: 3 },
          updatedAt: reg.clock.now(),
        },
      ]);
    });

    it('listVersions is newest first with aliases', () => {
      expect(reg.domain.models.listVersions('fraud').map((v) => [v.version, v.aliases])).toEqual([
        [3, ['challenger']],
        [2, ['champion']],
        [1, []],
      ]);
    });
  });

  describe('mutations', () => {
    beforeEach(async () => {
      await registerTestVersion(reg.domain, 'fraud', {
        description: 'v1',
        tags: { team: 'risk', stage: 'dev' },
      });
      await registerTestVersion(reg.domain, 'fraud');
    });

    it('updateVersion changes description and tags, audited with before/after', () => {
      reg.clock.advance(5000);
      const updated = reg.domain.models.updateVersion({
        model: 'fraud',
        version: 1,
        description: 'first good one',
        setTags: { stage: 'prod', owner: 'carol' },
        removeTags: ['team'],
        reason: 'promoted',
        actor: 'carol',
      });
      expect(updated).toMatchObject({
        description: 'first good one',
        tags: { owner: 'carol', stage: 'prod' },
      });
      expect(reg.domain.models.getVersion('fraud', 1)).toEqual(updated);
      const [entry] = reg.domain.audit.list({ action: 'model.update' });
      expect(entry).toMatchObject({ target: 'model/fraud@1', actor: 'carol', reason: 'promoted' });
      expect(JSON.parse(entry!.beforeJson)).toEqual({
        description: 'v1',
        tags: { stage: 'dev', team: 'risk' },
      });
      expect(JSON.parse(entry!.afterJson)).toEqual({
        description: 'first good one',
        tags: { owner: 'carol', stage: 'prod' },
      });
      expect(reg.domain.models.listModels()[0]!.updatedAt).toEqual(reg.clock.now());
    });

    it('updateVersion with no effect writes nothing; contradictions are refused', () => {
      const before = reg.domain.audit.list().length;
      reg.domain.models.updateVersion({ model: 'fraud', version: 1, setTags: { team: 'risk' }, actor: 'a' });
      expect(reg.domain.audit.list()).toHaveLength(before);
      expect(() =>
        reg.domain.models.updateVersion({
          model: 'fraud',
          version: 1,
          setTags: { a: '1' },
          removeTags: ['a'],
          actor: 'a',
        }),
      ).toThrow(
        new InvalidArgumentError(
          'cannot update model "fraud" version 1: tag "a" is both set and removed; do one or the other',
        ),
      );
      expect(() =>
        reg.domain.models.updateVersion({ model: 'fraud', version: 7, description: 'x', actor: 'a' }),
      ).toThrow(new NotFoundError('model "fraud" has no version 7 (latest is 2)'));
    });

    it('setAlias and deleteAlias report the previous version and are audited', () => {
      const models = reg.domain.models;
      expect(
        models.setAlias({ model: 'fraud', alias: 'champion', version: 1, actor: 'bob', reason: 'first' }),
      ).toEqual({ previousVersion: 0 });
      expect(
        models.setAlias({
          model: 'fraud',
          alias: 'champion',
          version: 2,
          actor: 'bob',
          reason: 'better auc',
        }),
      ).toEqual({ previousVersion: 1 });
      expect(models.setAlias({ model: 'fraud', alias: 'champion', version: 2, actor: 'bob' })).toEqual({
        previousVersion: 2,
      });
      expect(models.getVersion('fraud', 'champion').version).toBe(2);
      expect(
        models.deleteAlias({ model: 'fraud', alias: 'champion', actor: 'bob', reason: 'retired' }),
      ).toEqual({ previousVersion: 2 });
      expect(() => models.deleteAlias({ model: 'fraud', alias: 'champion', actor: 'bob' })).toThrow(
        new NotFoundError('model "fraud" has no alias "champion" (it has no aliases)'),
      );
      const entries = reg.domain.audit
        .list({ targetPrefix: 'model/fraud', action: '' })
        .filter((e) => e.action.startsWith('model.alias'));
      expect(entries.map((e) => [e.action, e.beforeJson, e.afterJson, e.reason])).toEqual([
        ['model.alias.set', '', '{"alias":"champion","version":1}', 'first'],
        [
          'model.alias.set',
          '{"alias":"champion","version":1}',
          '{"alias":"champion","version":2}',
          'better auc',
        ],
        ['model.alias.delete', '{"alias":"champion","version":2}', '', 'retired'],
      ]);
      expect(reg.domain.audit.verify().ok).toBe(true);
    });

    it('setAlias validates the alias and the version', () => {
      const models = reg.domain.models;
      expect(() => models.setAlias({ model: 'fraud', alias: 'latest', version: 1, actor: 'a' })).toThrow(
        new InvalidArgumentError(
          'alias "latest" is reserved (it selects the newest version); choose another name',
        ),
      );
      expect(() => models.setAlias({ model: 'fraud', alias: '7', version: 1, actor: 'a' })).toThrow(
        InvalidArgumentError,
      );
      expect(() => models.setAlias({ model: 'fraud', alias: 'champion', version: 3, actor: 'a' })).toThrow(
        new NotFoundError('model "fraud" has no version 3 (latest is 2)'),
      );
      expect(() => models.setAlias({ model: 'nope', alias: 'champion', version: 1, actor: 'a' })).toThrow(
        NotFoundError,
      );
    });
  });
});
