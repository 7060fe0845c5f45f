/**
 * Child process for the concurrency test: registers `count` versions of `model` through its own
 * connection, then prints the version numbers it got as JSON.
 * Usage: node --import tsx --conditions=@slipway/source register-many.ts <dataDir> <dbFile> <model> <count>
 */
import { openDatabase } from '../db/open-database.js';
import { createRegistryDomain } from '../domain/index.js';
import { fakeReadSignature, storeArtifact } from './fixtures.js';

const [dataDir, dbFile, model, count] = process.argv.slice(2) as [string, string, string, string];
const database = openDatabase({ file: dbFile, busyTimeoutMs: 30_000 });
const domain = createRegistryDomain({ dataDir, db: database });
const got: number[] = [];
for (let i = 0; i < Number(count); i += 1) {
  const { sha256, size } = await storeArtifact(domain, Buffer.from(`${process.pid} ${i} ${Math.random()}`));
  const version = await domain.models.registerVersion(
    { model, sha256, size, actor: `proc-${process.pid}` },
    fakeReadSignature,
  );
  got.push(version.version);
}
domain.shutdown();
database.close();
process.stdout.write(JSON.stringify(got));
