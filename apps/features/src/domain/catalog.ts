import { AlreadyExistsError, InvalidArgumentError } from '@slipway/errors';
import { parseFitted, serializeFitted, type FittedFeatureSet } from '@slipway/features';
import { and, asc, desc, eq } from 'drizzle-orm';
import type { FeaturesDatabase } from '../db/open-database.js';
import { featureSets, featureViews } from '../db/schema.js';

/** What a view field holds. */
export type ValueType = 'number' | 'text';

/** One field of a view. */
export interface FieldSpec {
  readonly name: string;
  readonly type: ValueType;
}

/** What a caller registers: a named group of fields keyed by one entity key. */
export interface FeatureViewDefinition {
  readonly name: string;
  /** The entity key rows are keyed by, e.g. `user_id`. */
  readonly entityKey: string;
  readonly fields: readonly FieldSpec[];
  /** How long a value stays fresh after its event time; 0: forever. */
  readonly ttlSeconds: number;
}

/** A registered view. */
export interface FeatureView extends FeatureViewDefinition {
  /** Registration order: when two views hold a field, the earlier one supplies it. */
  readonly seq: number;
  readonly createdAt: Date;
  readonly createdBy: string;
  /** Field name → position in stored values. */
  readonly fieldIndex: ReadonlyMap<string, number>;
}

/** A registered fitted feature set. */
export interface FeatureSetRecord {
  readonly name: string;
  readonly version: number;
  readonly contentHash: string;
  /** Canonical JSON (`serializeFitted`). */
  readonly fittedJson: string;
  readonly registeredAt: Date;
  readonly registeredBy: string;
}

/** Feature sets and views: the service's definitions, stored in SQLite. */
export interface Catalog {
  /**
   * Registers a fitted feature set from its serialised JSON.
   * @throws InvalidArgumentError when the text is not a fitted feature set.
   * @throws FailedPreconditionError when its content hash does not match its content.
   * @throws AlreadyExistsError when name@version holds other content.
   */
  registerFeatureSet(
    fittedJson: string,
    actor: string,
  ): { record: FeatureSetRecord; fitted: FittedFeatureSet; created: boolean };
  /** One version, or undefined. */
  findFeatureSet(name: string, version: number): FeatureSetRecord | undefined;
  /** The highest registered version of `name`, or undefined. */
  latestVersion(name: string): number | undefined;
  /** Feature sets by name, newest version first; only `name` when given. */
  listFeatureSets(name?: string): FeatureSetRecord[];
  /**
   * Registers a view; the identical definition again is a no-op.
   * @throws InvalidArgumentError when the definition is invalid.
   * @throws AlreadyExistsError when a different view has the name.
   */
  registerView(definition: FeatureViewDefinition, actor: string): { view: FeatureView; created: boolean };
  /** A view by name, or undefined. */
  findView(name: string): FeatureView | undefined;
  /** Every view in registration order. */
  views(): readonly FeatureView[];
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const MAX_TTL_SECONDS = 2 ** 31 - 1;

/** Checks a view definition, listing every problem. */
export function validateViewDefinition(d: FeatureViewDefinition): void {
  const problems: string[] = [];
  if (!NAME_RE.test(d.name) || d.name.length > 128) {
    problems.push(
      `name "${d.name}" must start with a letter and use only letters, digits, "_", "." or "-" (at most 128)`,
    );
  }
  if (d.entityKey.trim() === '') problems.push('entity_key is required, e.g. "user_id"');
  if (d.fields.length === 0) problems.push('a view needs at least one field');
  const seen = new Set<string>();
  d.fields.forEach((f, i) => {
    if (f.name.trim() === '') problems.push(`fields[${i}]: name is required`);
    else if (seen.has(f.name)) problems.push(`fields[${i}]: "${f.name}" is listed twice`);
    else if (f.name === d.entityKey) {
      problems.push(`fields[${i}]: "${f.name}" is the entity key; it is supplied with every read`);
    }
    seen.add(f.name);
    if (f.type !== 'number' && f.type !== 'text') {
      problems.push(`fields[${i}] ("${f.name}"): type must be number or text`);
    }
  });
  if (!Number.isInteger(d.ttlSeconds) || d.ttlSeconds < 0 || d.ttlSeconds > MAX_TTL_SECONDS) {
    problems.push(
      `ttl_seconds must be a whole number of seconds ≥ 0 (0: never expires), got ${d.ttlSeconds}`,
    );
  }
  if (problems.length > 0) {
    throw new InvalidArgumentError(`feature view "${d.name}" is invalid: ${problems.join('; ')}`);
  }
}

function sameDefinition(a: FeatureViewDefinition, b: FeatureViewDefinition): boolean {
  return (
    a.entityKey === b.entityKey &&
    a.ttlSeconds === b.ttlSeconds &&
    a.fields.length === b.fields.length &&
    a.fields.every((f, i) => f.name === b.fields[i]!.name && f.type === b.fields[i]!.type)
  );
}

function describeView(d: FeatureViewDefinition): string {
  const fields = d.fields.map((f) => `${f.name}:${f.type}`).join(', ');
  return `entity key "${d.entityKey}", fields [${fields}], ttl ${d.ttlSeconds}s`;
}

type FeatureSetRow = typeof featureSets.$inferSelect;
type FeatureViewRow = typeof featureViews.$inferSelect;

function toRecord(row: FeatureSetRow): FeatureSetRecord {
  return {
    name: row.name,
    version: row.version,
    contentHash: row.contentHash,
    fittedJson: row.fittedJson,
    registeredAt: new Date(row.registeredAt),
    registeredBy: row.registeredBy,
  };
}

function toView(row: FeatureViewRow): FeatureView {
  const fields = JSON.parse(row.fieldsJson) as FieldSpec[];
  return {
    name: row.name,
    entityKey: row.entityKey,
    fields,
    ttlSeconds: row.ttlSeconds,
    seq: row.seq,
    createdAt: new Date(row.createdAt),
    createdBy: row.createdBy,
    fieldIndex: new Map(fields.map((f, i) => [f.name, i])),
  };
}

/**
 * The catalog over the service database. Views are few and immutable, so they are held in
 * memory and re-read only when a name is not found (another process may have registered it).
 */
export function createCatalog(database: FeaturesDatabase): Catalog {
  const { db } = database;
  let views: FeatureView[] = [];
  let byName = new Map<string, FeatureView>();
  const reloadViews = () => {
    views = db.select().from(featureViews).orderBy(asc(featureViews.seq)).all().map(toView);
    byName = new Map(views.map((v) => [v.name, v]));
  };
  reloadViews();

  const findFeatureSet = (name: string, version: number) => {
    const row = db
      .select()
      .from(featureSets)
      .where(and(eq(featureSets.name, name), eq(featureSets.version, version)))
      .get();
    return row === undefined ? undefined : toRecord(row);
  };

  return {
    registerFeatureSet(fittedJson, actor) {
      const fitted = parseFitted(fittedJson);
      const { name, version } = fitted.spec;
      return database.sqlite
        .transaction(() => {
          const existing = findFeatureSet(name, version);
          if (existing !== undefined) {
            if (existing.contentHash !== fitted.contentHash) {
              throw new AlreadyExistsError(
                `feature set "${name}" v${version} is registered with content hash ${existing.contentHash}; ` +
                  `this one has ${fitted.contentHash}. Registered feature sets never change: give the new fit a new version`,
              );
            }
            return { record: existing, fitted, created: false };
          }
          const row: FeatureSetRow = {
            name,
            version,
            contentHash: fitted.contentHash,
            fittedJson: serializeFitted(fitted),
            registeredAt: new Date().toISOString(),
            registeredBy: actor,
          };
          db.insert(featureSets).values(row).run();
          return { record: toRecord(row), fitted, created: true };
        })
        .immediate();
    },

    findFeatureSet,

    latestVersion(name) {
      const row = db
        .select({ version: featureSets.version })
        .from(featureSets)
        .where(eq(featureSets.name, name))
        .orderBy(desc(featureSets.version))
        .limit(1)
        .get();
      return row?.version;
    },

    listFeatureSets(name) {
      const query = db.select().from(featureSets);
      const rows = (name ? query.where(eq(featureSets.name, name)) : query)
        .orderBy(asc(featureSets.name), desc(featureSets.version))
        .all();
      return rows.map(toRecord);
    },

    registerView(definition, actor) {
      validateViewDefinition(definition);
      const result = database.sqlite
        .transaction(() => {
          const existing = db.select().from(featureViews).where(eq(featureViews.name, definition.name)).get();
          if (existing !== undefined) {
            const view = toView(existing);
            if (!sameDefinition(view, definition)) {
              throw new AlreadyExistsError(
                `feature view "${definition.name}" is registered with ${describeView(view)}; ` +
                  `this request has ${describeView(definition)}. Views never change: register the new definition under a new name`,
              );
            }
            return { view, created: false };
          }
          const inserted = db
            .insert(featureViews)
            .values({
              name: definition.name,
              entityKey: definition.entityKey,
              fieldsJson: JSON.stringify(definition.fields.map((f) => ({ name: f.name, type: f.type }))),
              ttlSeconds: definition.ttlSeconds,
              createdAt: new Date().toISOString(),
              createdBy: actor,
            })
            .returning()
            .get();
          return { view: toView(inserted), created: true };
        })
        .immediate();
      reloadViews();
      return result;
    },

    findView(name) {
      let view = byName.get(name);
      if (view === undefined) {
        reloadViews();
        view = byName.get(name);
      }
      return view;
    },

    views: () => views,
  };
}
