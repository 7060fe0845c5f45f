/**
 * @slipway/feature-service: fitted feature sets, feature views, the online store (latest values
 * plus an append-only event log) and the serving path that turns stored values into model-ready
 * vectors with libs/features. Transport (gRPC) is wired on top in `createFeaturesServer`.
 */
export { featuresConfigSchema, type FeaturesConfig } from './config.js';
export { createFeaturesServer, type FeaturesServer } from './features-server.js';
export {
  MIGRATIONS_DIR,
  openDatabase,
  type FeaturesDatabase,
  type FeaturesDb,
  type OpenDatabaseOptions,
} from './db/open-database.js';
export {
  createCatalog,
  validateViewDefinition,
  type Catalog,
  type FeatureSetRecord,
  type FeatureView,
  type FeatureViewDefinition,
  type FieldSpec,
  type ValueType,
} from './domain/catalog.js';
export type {
  AsOfRef,
  EntityRef,
  FeatureEvent,
  OnlineStore,
  RawValue,
  StoredValues,
  WriteOutcome,
} from './domain/online-store.js';
export { createSqliteOnlineStore } from './store/sqlite-online-store.js';
export { createServingPlan, type ServingPlan, type ViewRead } from './domain/serving-plan.js';
export * from './domain/feature-domain.js';
