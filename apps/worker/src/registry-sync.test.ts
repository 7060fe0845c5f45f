// Registry-driven serving, as processes: the built registry and worker, a model registered and
// deployed through the registry's gRPC API, the worker following the deployments.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { inference, registry } from '@slipway/contracts';
import { buildLogisticRegression } from '@slipway/onnx';
import { createClient, SlipwayError } from '@slipway/service-kit';
import { createTempDir, ensureBuilt, repoRoot, startApp, useAppHarness } from '@slipway/testing';
import { beforeAll, expect, it } from 'vitest';
import { assignedVersions, loadedVersions } from './registry-sync.js';

const TOKEN = 'deploy-token';
const WORKER_ID = 'worker-under-test';
const WEIGHTS = { 1: [0.5, -1, 2], 2: [-2, 1, 0.25] } as const;
const model = (version: 1 | 2): Uint8Array =>
  buildLogisticRegression({ weights: WEIGHTS[version], bias: 0.5 }).bytes;
const ROW = [1, 2, 3];
const expected = (version: 1 | 2): number =>
  1 / (1 + Math.exp(-(ROW.reduce((s, x, i) => s + x * WEIGHTS[version][i]!, 0) + 0.5)));

const { VARIANT_ROLE_STABLE: STABLE, VARIANT_ROLE_CANDIDATE: CANDIDATE } = registry.VariantRole;
const { LOAD_STATE_READY: READY, LOAD_STATE_FAILED: FAILED } = registry.LoadState;

useAppHarness();
beforeAll(async () => {
  await ensureBuilt('apps/registry');
  await ensureBuilt('apps/worker');
});

async function* upload(name: string, bytes: Uint8Array): AsyncIterable<registry.RegisterModelVersionRequest> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  yield {
    part: {
      $case: 'header',
      header: {
        model: name,
        sha256,
        size: BigInt(bytes.length),
        lineage: undefined,
        description: '',
        tags: {},
      },
    },
  };
  yield { part: { $case: 'chunk', chunk: bytes } };
}

/** Polls `probe` until it returns a value; fails with the last value seen after `timeoutMs`. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function failure(call: Promise<unknown>): Promise<SlipwayError> {
  const error = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(error instanceof SlipwayError)) throw new Error(`expected a failed call, got ${String(error)}`);
  return error;
}

it('computes the assignment from every variant of the watched deployments', () => {
  const deployment = (name: string, versions: number[]) =>
    registry.Deployment.fromPartial({
      name,
      variants: versions.map((version) => ({ name: `v${version}`, model: name, version })),
    });
  const deployments = [deployment('a', [1, 2]), deployment('b', [3])];
  expect(assignedVersions(deployments)).toEqual([
    { model: 'a', version: 1 },
    { model: 'a', version: 2 },
    { model: 'b', version: 3 },
  ]);
  expect(assignedVersions(deployments, ['b'])).toEqual([{ model: 'b', version: 3 }]);
  expect(loadedVersions([{ name: 'a', version: 2, state: 'FAILED', error: 'bad' }])).toEqual([
    { model: 'a', version: 2, state: FAILED, error: 'bad', artifactSha256: '' },
  ]);
});

it('serves v1, refuses a corrupt v2 while v1 keeps serving, then serves v2 once the artifact is fixed', async () => {
  const registryDir = (await createTempDir('worker-e2e-registry-')).path;
  const workerDir = (await createTempDir('worker-e2e-worker-')).path;
  const registryApp = await startApp({
    name: 'registry',
    entry: path.join(repoRoot, 'apps/registry/dist/main.js'),
    env: {
      SLIPWAY_REGISTRY_ADDR: '127.0.0.1:0',
      SLIPWAY_REGISTRY_DATA_DIR: registryDir,
      SLIPWAY_REGISTRY_TOKENS: `${TOKEN}=ci:deployer`,
    },
    addressEnv: 'SLIPWAY_REGISTRY_ADDR',
  });
  const at = registryApp.address;
  const models = createClient(registry.ModelServiceService, at, { token: TOKEN });
  const deployments = createClient(registry.DeploymentServiceService, at, { token: TOKEN });
  const endpoints = createClient(registry.EndpointServiceService, at);
  const versionsReported = async (): Promise<registry.LoadedVersion[] | undefined> =>
    (await endpoints.listEndpoints({})).endpoints.find((e) => e.workerId === WORKER_ID)?.versions;
  const apply = (variants: Partial<registry.Variant>[], kind: registry.StrategyKind) =>
    deployments.applyDeployment({
      deployment: registry.Deployment.fromPartial({ name: 'scoring', variants, strategy: { kind } }),
      expectedRevision: 0n,
      reason: 'test',
    });

  let worker: Awaited<ReturnType<typeof startApp>> | undefined;
  let client: ReturnType<typeof createClient<typeof inference.GRPCInferenceServiceService>> | undefined;
  try {
    await models.registerModelVersion(upload('scorer', model(1)));
    await apply(
      [{ name: 'stable', model: 'scorer', version: 1, role: STABLE, weight: 100 }],
      registry.StrategyKind.STRATEGY_KIND_DIRECT,
    );

    worker = await startApp({
      name: 'worker',
      entry: path.join(repoRoot, 'apps/worker/dist/main.js'),
      env: {
        SLIPWAY_WORKER_ADDR: '127.0.0.1:0',
        SLIPWAY_REGISTRY_ADDR: at,
        SLIPWAY_WORKER_TOKEN: TOKEN,
        SLIPWAY_WORKER_ID: WORKER_ID,
        SLIPWAY_WORKER_DATA_DIR: workerDir,
        SLIPWAY_WORKER_HEARTBEAT_MS: '250',
      },
    });
    client = createClient(inference.GRPCInferenceServiceService, worker.address, {
      retry: { maxAttempts: 1 },
    });
    const infer = (version = '') =>
      client!.modelInfer(
        inference.ModelInferRequest.fromPartial({
          modelName: 'scorer',
          modelVersion: version,
          inputs: [{ name: 'input', datatype: 'FP32', shape: [1n, 3n], contents: { fp32Contents: ROW } }],
        }),
      );
    const answer = (response: inference.ModelInferResponse) =>
      response.outputs[0]!.contents!.fp32Contents[0]!;

    // v1: downloaded, verified, loaded, reported READY, served.
    const v1 = await eventually('v1 READY in the heartbeat', async () => {
      const versions = await versionsReported();
      return versions?.some((v) => v.version === 1 && v.state === READY) ? versions : undefined;
    });
    expect(v1).toEqual([
      {
        model: 'scorer',
        version: 1,
        state: READY,
        error: '',
        artifactSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);
    expect((await endpoints.listEndpoints({})).endpoints[0]!.address).toBe(worker.address);
    expect(await client.serverReady({})).toEqual({ ready: true });
    const first = await infer();
    expect(first.modelVersion).toBe('1');
    expect(answer(first)).toBeCloseTo(expected(1), 5);

    // v2 registered intact, then its bytes corrupted on the registry's disk before deploying it.
    const v2 = (await models.registerModelVersion(upload('scorer', model(2)))).version!;
    const sha = v2.artifactSha256;
    const stored = path.join(registryDir, 'artifacts', 'sha256', sha.slice(0, 2), sha);
    const mode = (await stat(stored)).mode;
    const intact = await readFile(stored);
    const corrupt = Buffer.from(intact);
    corrupt[corrupt.length >> 1] ^= 0xff;
    await chmod(stored, 0o644);
    await writeFile(stored, corrupt);
    await apply(
      [
        { name: 'blue', model: 'scorer', version: 1, role: STABLE, weight: 100 },
        { name: 'green', model: 'scorer', version: 2, role: CANDIDATE, weight: 0 },
      ],
      registry.StrategyKind.STRATEGY_KIND_BLUE_GREEN,
    );

    const failed = await eventually('v2 FAILED in the heartbeat', async () =>
      (await versionsReported())?.find((v) => v.version === 2 && v.state === FAILED),
    );
    expect(failed.error).toMatch(
      new RegExp(
        `^artifact of model "scorer" version 2 failed verification: sha256 mismatch, .* but the registry records ${sha}`,
      ),
    );
    expect((await versionsReported())?.find((v) => v.version === 1)?.state).toBe(READY);
    expect(existsSync(path.join(workerDir, 'artifacts', sha))).toBe(false);
    // v1 keeps serving; v2 never does.
    const still = await infer();
    expect(still.modelVersion).toBe('1');
    expect(answer(still)).toBeCloseTo(expected(1), 5);
    const refused = await failure(infer('2'));
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(refused.message).toContain('sha256 mismatch');
    expect(await client.modelReady({ name: 'scorer', version: '2' })).toEqual({ ready: false });
    expect((await client.modelMetadata({ name: 'scorer', version: '' })).versions).toEqual(['1']);

    // The registry's copy is repaired: the worker's retry (backoff) loads v2.
    await writeFile(stored, intact);
    await chmod(stored, mode);
    await eventually('v2 READY in the heartbeat', async () =>
      (await versionsReported())?.find((v) => v.version === 2 && v.state === READY),
    );
    const second = await infer();
    expect(second.modelVersion).toBe('2');
    expect(answer(second)).toBeCloseTo(expected(2), 5);
    expect(answer(await infer('1'))).toBeCloseTo(expected(1), 5);
    expect(existsSync(path.join(workerDir, 'artifacts', sha))).toBe(true);

    // The registry crashes: serving goes on with what is loaded; the watch resumes after.
    await registryApp.kill();
    expect((await infer()).modelVersion).toBe('2');
    expect(answer(await infer('1'))).toBeCloseTo(expected(1), 5);
    await registryApp.restart();

    // Promote v2 alone: v1 is no longer assigned and is unloaded.
    await apply(
      [{ name: 'green', model: 'scorer', version: 2, role: STABLE, weight: 100 }],
      registry.StrategyKind.STRATEGY_KIND_DIRECT,
    );
    await eventually('v1 gone from the heartbeat', async () => {
      const versions = await versionsReported();
      return versions?.length === 1 ? versions : undefined;
    });
    const gone = await failure(infer('1'));
    expect(gone.code).toBe(status.NOT_FOUND);
    expect(gone.message).toBe('model "scorer" has no version "1" (versions: 2 ready)');

    // A clean shutdown deregisters at once.
    client.close();
    client = undefined;
    expect(await worker.stop()).toMatchObject({ code: 0, timedOut: false });
    expect(await versionsReported()).toBeUndefined();
  } finally {
    client?.close();
    await worker?.stop();
    models.close();
    deployments.close();
    endpoints.close();
    await registryApp.stop();
  }
});
