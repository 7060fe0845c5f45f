/** Test fixtures: a fresh registry on a temporary directory, a manual clock, artifacts. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registry } from '@slipway/contracts';
import { openDatabase, type RegistryDatabase } from '../db/open-database.js';
import { createRegistryDomain, type RegistryDomain, type RegistryDomainOptions } from '../domain/index.js';
import type { SignatureReader } from '../domain/model-registry.js';

/** A clock tests move by hand. */
export interface ManualClock {
  now: () => Date;
  advance(ms: number): void;
  set(date: Date): void;
}

/** A clock starting at 2030-01-01T00:00:00.000Z. */
export function createManualClock(start = new Date('2030-01-01T00:00:00.000Z')): ManualClock {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance(ms) {
      t += ms;
    },
    set(date) {
      t = date.getTime();
    },
  };
}

/** A temporary directory removed by `cleanup()`. */
export function createTempDir(prefix = 'slipway-registry-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A registry on a fresh data directory and database. */
export interface TestRegistry {
  dataDir: string;
  dbFile: string;
  database: RegistryDatabase;
  domain: RegistryDomain;
  clock: ManualClock;
  /** Closes the domain and database (as a process exit would) and opens them again. */
  restart(): void;
  /** Opens a second, independent domain on the same files (as a second process would). */
  openAnother(): { database: RegistryDatabase; domain: RegistryDomain };
  cleanup(): void;
}

/** Creates a fresh registry; call `cleanup()` in afterEach. */
export function createTestRegistry(
  options: Partial<Omit<RegistryDomainOptions, 'dataDir' | 'db' | 'now'>> = {},
): TestRegistry {
  const { dir, cleanup } = createTempDir();
  const dbFile = join(dir, 'registry.db');
  const clock = createManualClock();
  const extra: { database: RegistryDatabase; domain: RegistryDomain }[] = [];
  const open = () => {
    const database = openDatabase({ file: dbFile });
    const domain = createRegistryDomain({ dataDir: dir, db: database, now: clock.now, ...options });
    return { database, domain };
  };
  const state = open();
  const reg: TestRegistry = {
    dataDir: dir,
    dbFile,
    clock,
    get database() {
      return state.database;
    },
    get domain() {
      return state.domain;
    },
    restart() {
      state.domain.shutdown();
      state.database.close();
      Object.assign(state, open());
    },
    openAnother() {
      const other = open();
      extra.push(other);
      return other;
    },
    cleanup() {
      for (const o of [state, ...extra]) {
        o.domain.shutdown();
        o.database.close();
      }
      cleanup();
    },
  };
  return reg;
}

/** A fixed signature, standing in for `@slipway/onnx`'s reader. */
export const FAKE_SIGNATURE: registry.ModelSignature = registry.ModelSignature.fromPartial({
  inputs: [
    {
      name: 'features',
      datatype: 'FP32',
      onnxType: 'FLOAT',
      shape: [-1n, 4n],
      dimParams: ['batch', ''],
      kind: 'tensor',
    },
  ],
  outputs: [
    {
      name: 'score',
      datatype: 'FP32',
      onnxType: 'FLOAT',
      shape: [-1n, 1n],
      dimParams: ['batch', ''],
      kind: 'tensor',
    },
  ],
  opsets: [{ domain: '', version: 17n }],
  irVersion: 8n,
  producerName: 'slipway-tests',
  producerVersion: '1',
  graphName: 'fake',
});

/** A signature reader that accepts any bytes. */
export const fakeReadSignature: SignatureReader = () => FAKE_SIGNATURE;

/** sha256 hex of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Uploads `bytes` into the store and returns its sha256 and size. */
export async function storeArtifact(
  domain: RegistryDomain,
  bytes: Uint8Array,
): Promise<{ sha256: string; size: number }> {
  const sha256 = sha256Hex(bytes);
  const writer = await domain.artifacts.beginUpload({ expectedSha256: sha256, expectedSize: bytes.length });
  await writer.write(bytes);
  await writer.commit();
  return { sha256, size: bytes.length };
}

/** Uploads a distinct artifact and registers it as the next version of `model`. */
export async function registerTestVersion(
  domain: RegistryDomain,
  model: string,
  extra: Partial<Parameters<RegistryDomain['models']['registerVersion']>[0]> = {},
): Promise<registry.ModelVersion> {
  const bytes = Buffer.from(`onnx-bytes ${model} ${Math.random()}`);
  const { sha256, size } = await storeArtifact(domain, bytes);
  return domain.models.registerVersion({ model, sha256, size, actor: 'alice', ...extra }, fakeReadSignature);
}
