/**
 * @slipway/registry: models, immutable versions, content-addressed artifacts, deployments,
 * worker endpoints, the change feed and the audit log. Transport (gRPC) is wired on top of
 * `createRegistryDomain` in main.
 */
export { registryConfigSchema, type RegistryConfig } from './config.js';
export {
  openDatabase,
  MIGRATIONS_DIR,
  type OpenDatabaseOptions,
  type RegistryDatabase,
  type RegistryDb,
} from './db/open-database.js';
export {
  readTransaction,
  writeTransaction,
  type Executor,
  type WriteTransactionOptions,
} from './db/transactions.js';
export * from './domain/index.js';
