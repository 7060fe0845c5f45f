import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as ort from 'onnxruntime-node';
import { features, registry, serving } from '@slipway/contracts';
import { createClient } from '@slipway/service-kit';
import { demoTransaction } from '@slipway/testing';
import { closeEnough } from './worker-probe.js';

/** A demo transaction for user `u<i % 1000>` (libs/testing's, as the end-to-end tests send). */
export const transactionRequest = demoTransaction;

/** `count` encoded {@link transactionRequest}s, i = 0..count-1, for the load generator to send in turn. */
export function encodeTransactions(count: number, deployment = 'fraud'): Uint8Array[] {
  return Array.from({ length: count }, (_, i) =>
    serving.PredictRequest.encode(transactionRequest(i, deployment)).finish(),
  );
}

/** The deployed model version, as the worker serves it, saved for raw onnxruntime. */
export interface DeployedModel {
  readonly model: string;
  readonly version: number;
  /** The artifact downloaded from the registry (model.onnx). */
  readonly file: string;
  readonly fileBytes: number;
  readonly inputName: string;
  readonly outputName: string;
  /** Columns of the feature vector: the input is FP32 [1, width]. */
  readonly width: number;
  readonly featureSet: features.FeatureSetRef;
}

/**
 * Finds the single variant of `deployment`, reads its version's signature and lineage, and
 * downloads its artifact (ModelService.DownloadArtifact) to `<dir>/<model>-<version>.onnx`.
 */
export async function downloadDeployedModel(
  registryAddress: string,
  token: string,
  deployment: string,
  dir: string,
): Promise<DeployedModel> {
  const options = { token, defaultDeadlineMs: 30_000 };
  const deployments = createClient(registry.DeploymentServiceService, registryAddress, options);
  const models = createClient(registry.ModelServiceService, registryAddress, options);
  try {
    const { deployment: found } = await deployments.getDeployment({ name: deployment });
    const variant = found?.variants[0];
    if (!variant) throw new Error(`deployment "${deployment}" has no variant`);
    const { version } = await models.getModelVersion({
      model: variant.model,
      version: variant.version,
      alias: '',
    });
    const input = version?.signature?.inputs[0];
    const output = version?.signature?.outputs[0];
    const featureSet = version?.lineage?.featureSet;
    if (!input || !output || !featureSet?.name) {
      throw new Error(`${variant.model}@${variant.version} has no signature or feature set in the registry`);
    }
    const chunks: Uint8Array[] = [];
    for await (const part of models.downloadArtifact({
      model: variant.model,
      version: variant.version,
      sha256: '',
    })) {
      if (part.part?.$case === 'chunk') chunks.push(part.part.chunk);
    }
    const bytes = Buffer.concat(chunks);
    const file = path.join(dir, `${variant.model}-${variant.version}.onnx`);
    await writeFile(file, bytes);
    return {
      model: variant.model,
      version: variant.version,
      file,
      fileBytes: bytes.byteLength,
      inputName: input.name,
      outputName: output.name,
      width: Number(input.shape[input.shape.length - 1] ?? -1n),
      featureSet: { name: featureSet.name, version: featureSet.version, contentHash: featureSet.contentHash },
    };
  } finally {
    deployments.close();
    models.close();
  }
}

/** Retries `fn` until it resolves or `timeoutMs` passes; rejects with the last error. */
async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await fn();
    } catch (error) {
      last = error;
      await sleep(200);
    }
  }
  throw new Error(
    `${what} within ${timeoutMs / 1000} s: ${last instanceof Error ? last.message : String(last)}`,
    { cause: last },
  );
}

/** What {@link probeRouter} learned. */
export interface RouterProbe {
  /** Feature vectors of the probed transactions (single rows for raw onnxruntime). */
  readonly rows: readonly Float32Array[];
  /** Median size of the encoded PredictResponses (what the echo baseline replies). */
  readonly responseBytes: number;
  /** Median size of the encoded PredictRequests. */
  readonly requestBytes: number;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/**
 * Waits until the router answers a Predict pinned to the deployed version (the worker has the
 * model READY and the router knows the worker), then checks the router's scores for `count`
 * transactions against raw onnxruntime run on the feature service's vectors for the same
 * transactions, so a fast but wrong path is never measured.
 */
export async function probeRouter(options: {
  readonly router: string;
  readonly features: string;
  readonly token: string;
  readonly deployment: string;
  readonly model: DeployedModel;
  readonly count: number;
  readonly timeoutMs: number;
}): Promise<RouterProbe> {
  const { model } = options;
  const prediction = createClient(serving.PredictionServiceService, options.router, {
    defaultDeadlineMs: 10_000,
  });
  const featureService = createClient(features.FeatureServiceService, options.features, {
    token: options.token,
    defaultDeadlineMs: 10_000,
  });
  const session = await ort.InferenceSession.create(model.file, { intraOpNumThreads: 1 });
  try {
    await until(
      `the router did not answer Predict pinned to ${model.model}@${model.version}`,
      options.timeoutMs,
      () => prediction.predict(transactionRequest(0, options.deployment, model.version)),
    );
    const rows: Float32Array[] = [];
    const responseSizes: number[] = [];
    const requestSizes: number[] = [];
    for (let i = 0; i < options.count; i++) {
      const request = transactionRequest(i, options.deployment);
      const response = await prediction.predict(request);
      const { vector } = await featureService.getFeatureVector({
        featureSet: model.featureSet,
        entityKeys: request.entityKeys,
        requestValues: request.values,
        omitNames: true,
      });
      const row = Float32Array.from(vector);
      if (row.length !== model.width) {
        throw new Error(
          `the feature service returned ${row.length} columns; ${model.model} takes ${model.width}`,
        );
      }
      const outputs = await session.run(
        { [model.inputName]: new ort.Tensor('float32', row, [1, row.length]) },
        [model.outputName],
      );
      const expected = Float32Array.from(outputs[model.outputName]!.data as Float32Array);
      const actual = Float32Array.from(response.scores);
      if (response.version !== model.version || !closeEnough(actual, expected)) {
        throw new Error(
          `the router answered ${response.model}@${response.version} [${[...actual].join(', ')}] for transaction ${i}; ` +
            `onnxruntime on the feature vector says ${model.model}@${model.version} [${[...expected].join(', ')}]`,
        );
      }
      rows.push(row);
      responseSizes.push(serving.PredictResponse.encode(response).finish().length);
      requestSizes.push(serving.PredictRequest.encode(request).finish().length);
    }
    return { rows, responseBytes: median(responseSizes), requestBytes: median(requestSizes) };
  } finally {
    prediction.close();
    featureService.close();
    await session.release();
  }
}
