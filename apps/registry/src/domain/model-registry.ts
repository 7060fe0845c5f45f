import { registry } from '@slipway/contracts';
import { and, asc, count, desc, eq, max } from 'drizzle-orm';
import type { RegistryDatabase } from '../db/open-database.js';
import { aliases, models, modelVersions } from '../db/schema.js';
import { readTransaction, writeTransaction, type Executor } from '../db/transactions.js';
import type { ArtifactStore } from './artifact-store.js';
import { normalizeSha256 } from './artifact-store.js';
import type { AuditLog } from './audit-log.js';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@slipway/errors';
import {
  lineageToColumns,
  modelVersionForAudit,
  modelVersionFromRow,
  signatureToContract,
  signatureToJson,
  tagsFromJson,
  tagsToJson,
  type ModelSignatureLike,
} from './mappers.js';
import { aliasProblem, resourceNameProblem } from './names.js';
import { invalidArgument } from './problems.js';

const MAX_DESCRIPTION = 4096;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 1024;

/**
 * Reads the signature of an ONNX file; throws when the bytes are not a valid model.
 * `readModelSignature` from `@slipway/onnx` fits as is (its numbers become the contract's bigints).
 */
export type SignatureReader = (bytes: Buffer) => ModelSignatureLike | Promise<ModelSignatureLike>;

/** Who is asking, for the audit log. */
export interface AuditContext {
  /** The authenticated principal. */
  actor: string;
  /** W3C trace id of the request, if any. */
  traceId?: string;
  /** Why, in the caller's words. */
  reason?: string;
}

/** A new version: its (already committed) artifact and lineage. */
export interface RegisterVersionInput extends AuditContext {
  model: string;
  /** sha256 of an artifact already committed to the store. */
  sha256: string;
  /** Declared size in bytes; must equal the stored artifact's. */
  size: number | bigint;
  lineage?: registry.Lineage;
  description?: string;
  tags?: Record<string, string>;
}

/** A version selector: a number (0 = latest), an alias name, or `"latest"`. */
export type VersionRef = number | string;

/** Changes to the mutable fields of a version. */
export interface UpdateVersionInput extends AuditContext {
  model: string;
  version: number;
  /** Undefined keeps the description. */
  description?: string;
  setTags?: Record<string, string>;
  removeTags?: readonly string[];
}

/** Points `alias` at `version`. */
export interface SetAliasInput extends AuditContext {
  model: string;
  alias: string;
  version: number;
}

/** Removes `alias`. */
export interface DeleteAliasInput extends AuditContext {
  model: string;
  alias: string;
}

/** Models, their immutable versions and aliases. */
export interface ModelRegistry {
  /**
   * Registers the next version (1, 2, 3… per model) of `input.model`. The artifact must already
   * be committed to the store; its bytes are given to `readSignature`, whose failure becomes an
   * InvalidArgumentError. The number is assigned under the database write lock, so concurrent
   * registrations from several connections or processes get distinct numbers.
   */
  registerVersion(
    input: RegisterVersionInput,
    readSignature: SignatureReader,
  ): Promise<registry.ModelVersion>;
  /** One version by number, alias, or latest (the default). NotFoundError names the latest version. */
  getVersion(model: string, ref?: VersionRef): registry.ModelVersion;
  /** All models with their latest version, version count and aliases, by name. */
  listModels(): registry.ModelSummary[];
  /** All versions of a model, newest first. */
  listVersions(model: string): registry.ModelVersion[];
  /** Changes description and tags. Audited with before/after; a no-op writes nothing. */
  updateVersion(input: UpdateVersionInput): registry.ModelVersion;
  /** Points an alias at a version; `previousVersion` is 0 when the alias is new. Audited. */
  setAlias(input: SetAliasInput): { previousVersion: number };
  /** Removes an alias. Audited. */
  deleteAlias(input: DeleteAliasInput): { previousVersion: number };
}

/** Options of {@link createModelRegistry}. */
export interface ModelRegistryOptions {
  database: RegistryDatabase;
  artifacts: ArtifactStore;
  audit: AuditLog;
  now: () => Date;
}

/** Creates the model registry. */
export function createModelRegistry(options: ModelRegistryOptions): ModelRegistry {
  const { database, artifacts, audit, now } = options;

  const latestVersion = (tx: Executor, model: string): number =>
    tx
      .select({ latest: max(modelVersions.version) })
      .from(modelVersions)
      .where(eq(modelVersions.model, model))
      .get()?.latest ?? 0;

  const aliasesOf = (tx: Executor, model: string, version?: number): { alias: string; version: number }[] =>
    tx
      .select({ alias: aliases.alias, version: aliases.version })
      .from(aliases)
      .where(
        version === undefined
          ? eq(aliases.model, model)
          : and(eq(aliases.model, model), eq(aliases.version, version)),
      )
      .orderBy(asc(aliases.alias))
      .all();

  const requireLatest = (tx: Executor, model: string): number => {
    const latest = latestVersion(tx, model);
    if (latest === 0)
      throw new NotFoundError(`model "${model}" does not exist (register a version of it first)`);
    return latest;
  };

  const resolveVersion = (tx: Executor, model: string, ref: VersionRef): number => {
    const latest = requireLatest(tx, model);
    if (ref === 0 || ref === 'latest' || ref === '') return latest;
    if (typeof ref === 'number') {
      if (!Number.isInteger(ref) || ref < 0)
        throw new InvalidArgumentError(
          `version ${ref} of model "${model}" is invalid (use a positive integer, or 0 for the latest)`,
        );
      return ref;
    }
    const row = tx
      .select({ version: aliases.version })
      .from(aliases)
      .where(and(eq(aliases.model, model), eq(aliases.alias, ref)))
      .get();
    if (!row) {
      const known = aliasesOf(tx, model).map((a) => a.alias);
      const hint =
        known.length > 0 ? `its aliases are ${known.join(', ')}` : 'it has no aliases; set one first';
      throw new NotFoundError(`model "${model}" has no alias "${ref}" (${hint})`);
    }
    return row.version;
  };

  const loadVersion = (tx: Executor, model: string, ref: VersionRef): registry.ModelVersion => {
    const version = resolveVersion(tx, model, ref);
    const row = tx
      .select()
      .from(modelVersions)
      .where(and(eq(modelVersions.model, model), eq(modelVersions.version, version)))
      .get();
    if (!row)
      throw new NotFoundError(
        `model "${model}" has no version ${version} (latest is ${latestVersion(tx, model)})`,
      );
    return modelVersionFromRow(
      row,
      aliasesOf(tx, model, version).map((a) => a.alias),
    );
  };

  const touchModel = (tx: Executor, model: string, time: string): void => {
    tx.update(models).set({ updatedAt: time }).where(eq(models.name, model)).run();
  };

  return {
    async registerVersion(input, readSignature) {
      const problems: string[] = [];
      const nameProblem = resourceNameProblem('model', input.model);
      if (nameProblem) problems.push(nameProblem);
      let sha256 = '';
      try {
        sha256 = normalizeSha256(input.sha256);
      } catch (err) {
        problems.push((err as Error).message);
      }
      const size = typeof input.size === 'bigint' ? Number(input.size) : input.size;
      if (!Number.isSafeInteger(size) || size < 0)
        problems.push(`size ${String(input.size)} is not a valid byte count`);
      const lineage = registry.Lineage.fromPartial(input.lineage ?? {});
      if (!Number.isInteger(lineage.parentVersion) || lineage.parentVersion < 0) {
        problems.push(
          `lineage parent_version ${lineage.parentVersion} is invalid (use 0 for none, or an existing version)`,
        );
      }
      const description = input.description ?? '';
      const tags = input.tags ?? {};
      problems.push(...descriptionProblems(description), ...tagProblems(tags));
      if (problems.length > 0)
        throw invalidArgument(`cannot register a version of model "${input.model}"`, problems);

      if (!artifacts.has(sha256)) {
        throw new FailedPreconditionError(
          `artifact sha256:${sha256} is not in the store (upload the file before registering it)`,
        );
      }
      const storedSize = artifacts.sizeOf(sha256);
      if (storedSize !== size) {
        throw new InvalidArgumentError(
          `artifact sha256:${sha256} has ${storedSize} bytes but ${size} were declared (declare the real size)`,
        );
      }
      const bytes = await artifacts.readBytes(sha256);
      let signature: registry.ModelSignature;
      try {
        signature = signatureToContract(await readSignature(bytes));
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new InvalidArgumentError(
          `artifact sha256:${sha256} is not a valid ONNX model: ${why} (upload the .onnx file the training run produced)`,
          {
            cause: err,
          },
        );
      }

      return writeTransaction(
        database,
        (tx) => {
          const time = now().toISOString();
          tx.insert(models)
            .values({ name: input.model, createdAt: time, updatedAt: time })
            .onConflictDoUpdate({ target: models.name, set: { updatedAt: time } })
            .run();
          const latest = latestVersion(tx, input.model);
          if (lineage.parentVersion > latest) {
            const state = latest === 0 ? 'it has no versions yet' : `latest is ${latest}`;
            throw new InvalidArgumentError(
              `model "${input.model}" has no version ${lineage.parentVersion} to be the parent of the new version (${state})`,
            );
          }
          const row = {
            model: input.model,
            version: latest + 1,
            artifactSha256: sha256,
            artifactSize: size,
            signatureJson: signatureToJson(signature),
            ...lineageToColumns(lineage),
            description,
            tagsJson: tagsToJson(tags),
            createdAt: time,
            createdBy: input.actor,
          };
          tx.insert(modelVersions).values(row).run();
          const version = modelVersionFromRow(row, []);
          audit.append(tx, {
            actor: input.actor,
            action: 'model.register',
            target: `model/${input.model}@${row.version}`,
            after: modelVersionForAudit(version),
            reason: input.reason,
            traceId: input.traceId,
          });
          return version;
        },
        { durable: true },
      );
    },

    getVersion(model, ref = 'latest') {
      return readTransaction(database, (tx) => loadVersion(tx, model, ref));
    },

    listModels() {
      return readTransaction(database, (tx) => {
        const rows = tx
          .select({
            name: models.name,
            updatedAt: models.updatedAt,
            latest: max(modelVersions.version),
            versions: count(modelVersions.version),
          })
          .from(models)
          .innerJoin(modelVersions, eq(modelVersions.model, models.name))
          .groupBy(models.name)
          .orderBy(asc(models.name))
          .all();
        const byModel = new Map<string, Record<string, number>>();
        for (const a of tx.select().from(aliases).all()) {
          const map = byModel.get(a.model) ?? {};
          map[a.alias] = a.version;
          byModel.set(a.model, map);
        }
        return rows.map((r): registry.ModelSummary => ({
          name: r.name,
          latestVersion: r.latest ?? 0,
          versionCount: r.versions,
          aliases: byModel.get(r.name) ?? {},
          updatedAt: new Date(r.updatedAt),
        }));
      });
    },

    listVersions(model) {
      return readTransaction(database, (tx) => {
        requireLatest(tx, model);
        const aliasMap = new Map<number, string[]>();
        for (const a of aliasesOf(tx, model))
          aliasMap.set(a.version, [...(aliasMap.get(a.version) ?? []), a.alias]);
        return tx
          .select()
          .from(modelVersions)
          .where(eq(modelVersions.model, model))
          .orderBy(desc(modelVersions.version))
          .all()
          .map((row) => modelVersionFromRow(row, aliasMap.get(row.version) ?? []));
      });
    },

    updateVersion(input) {
      const removeTags = input.removeTags ?? [];
      const setTags = input.setTags ?? {};
      const problems = [...tagProblems(setTags)];
      if (input.description !== undefined) problems.push(...descriptionProblems(input.description));
      for (const key of removeTags)
        if (key in setTags) problems.push(`tag "${key}" is both set and removed; do one or the other`);
      if (!Number.isInteger(input.version) || input.version < 1)
        problems.push(`version ${input.version} is invalid (use an existing version number)`);
      if (problems.length > 0)
        throw invalidArgument(`cannot update model "${input.model}" version ${input.version}`, problems);

      return writeTransaction(
        database,
        (tx) => {
          const current = loadVersion(tx, input.model, input.version);
          const tags = { ...current.tags };
          for (const key of removeTags) delete tags[key];
          Object.assign(tags, setTags);
          const description = input.description ?? current.description;
          const before = { description: current.description, tags: current.tags };
          const after = { description, tags };
          if (description === current.description && tagsToJson(tags) === tagsToJson(current.tags))
            return current;
          tx.update(modelVersions)
            .set({ description, tagsJson: tagsToJson(tags) })
            .where(and(eq(modelVersions.model, input.model), eq(modelVersions.version, input.version)))
            .run();
          touchModel(tx, input.model, now().toISOString());
          audit.append(tx, {
            actor: input.actor,
            action: 'model.update',
            target: `model/${input.model}@${input.version}`,
            before,
            after,
            reason: input.reason,
            traceId: input.traceId,
          });
          return { ...current, description, tags: tagsFromJson(tagsToJson(tags)) };
        },
        { durable: true },
      );
    },

    setAlias(input) {
      const problem = aliasProblem(input.alias);
      if (problem) throw new InvalidArgumentError(problem);
      if (!Number.isInteger(input.version) || input.version < 1) {
        throw new InvalidArgumentError(
          `cannot point alias "${input.alias}" at version ${input.version} of model "${input.model}" (use an existing version number)`,
        );
      }
      return writeTransaction(
        database,
        (tx) => {
          loadVersion(tx, input.model, input.version);
          const existing = tx
            .select({ version: aliases.version })
            .from(aliases)
            .where(and(eq(aliases.model, input.model), eq(aliases.alias, input.alias)))
            .get();
          const previousVersion = existing?.version ?? 0;
          if (previousVersion === input.version) return { previousVersion };
          const time = now().toISOString();
          tx.insert(aliases)
            .values({
              model: input.model,
              alias: input.alias,
              version: input.version,
              updatedAt: time,
              updatedBy: input.actor,
            })
            .onConflictDoUpdate({
              target: [aliases.model, aliases.alias],
              set: { version: input.version, updatedAt: time, updatedBy: input.actor },
            })
            .run();
          touchModel(tx, input.model, time);
          audit.append(tx, {
            actor: input.actor,
            action: 'model.alias.set',
            target: `model/${input.model}`,
            before: existing ? { alias: input.alias, version: previousVersion } : undefined,
            after: { alias: input.alias, version: input.version },
            reason: input.reason,
            traceId: input.traceId,
          });
          return { previousVersion };
        },
        { durable: true },
      );
    },

    deleteAlias(input) {
      return writeTransaction(
        database,
        (tx) => {
          requireLatest(tx, input.model);
          const existing = tx
            .select({ version: aliases.version })
            .from(aliases)
            .where(and(eq(aliases.model, input.model), eq(aliases.alias, input.alias)))
            .get();
          if (!existing) {
            const known = aliasesOf(tx, input.model).map((a) => a.alias);
            const hint = known.length > 0 ? `its aliases are ${known.join(', ')}` : 'it has no aliases';
            throw new NotFoundError(`model "${input.model}" has no alias "${input.alias}" (${hint})`);
          }
          tx.delete(aliases)
            .where(and(eq(aliases.model, input.model), eq(aliases.alias, input.alias)))
            .run();
          touchModel(tx, input.model, now().toISOString());
          audit.append(tx, {
            actor: input.actor,
            action: 'model.alias.delete',
            target: `model/${input.model}`,
            before: { alias: input.alias, version: existing.version },
            reason: input.reason,
            traceId: input.traceId,
          });
          return { previousVersion: existing.version };
        },
        { durable: true },
      );
    },
  };
}

function descriptionProblems(description: string): string[] {
  return description.length > MAX_DESCRIPTION
    ? [`description has ${description.length} characters; the limit is ${MAX_DESCRIPTION}`]
    : [];
}

function tagProblems(tags: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (key.trim() === '' || key.length > MAX_TAG_KEY)
      problems.push(`tag key "${key}" is invalid (use 1-${MAX_TAG_KEY} non-blank characters)`);
    if (typeof value !== 'string' || value.length > MAX_TAG_VALUE)
      problems.push(`tag "${key}" has a value over ${MAX_TAG_VALUE} characters`);
  }
  return problems;
}
