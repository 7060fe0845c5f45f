import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { inference } from '@slipway/contracts';
import { buildMlp, createSeededRandom, MLP_PRESETS, type MlpOptions } from '@slipway/onnx';
import { median, percentile } from './stats.js';

/** A benchmark model, written to disk both as a plain file and as a worker model repository. */
export interface BenchModel {
  /** Model name in the repository and in requests: `tiny`, `heavy`. */
  readonly name: string;
  /** Layer sizes, e.g. `30→64→64→1`. */
  readonly shape: string;
  readonly options: MlpOptions;
  readonly inputName: string;
  readonly outputName: string;
  readonly inputSize: number;
  readonly outputSize: number;
  /** The model file, for raw onnxruntime. */
  readonly file: string;
  readonly fileBytes: number;
  /** A Triton-layout repository holding only this model (`<name>/1/model.onnx`). */
  readonly repository: string;
  /** Single input rows, sent in turn. */
  readonly rows: readonly Float32Array[];
  /** `rows[i]` as an encoded ModelInferRequest with raw_input_contents (FP32 little-endian). */
  readonly requests: readonly Uint8Array[];
  /** onnxruntime's answer for `rows[0]`, to check a server's answer before measuring it. */
  readonly expected: Float32Array;
  /** Median single-row `InferenceSession.run` time, sequential, default session options. */
  readonly singleRowMs: number;
  /**
   * 10th percentile of the same runs. The heavy model is sized by it: other processes only add
   * time, so a low percentile is what the model costs, and sizing stays stable on a busy machine.
   */
  readonly singleRowP10Ms: number;
}

/** The heavy model must cost at least this much per single row. */
export const HEAVY_MIN_SINGLE_ROW_MS = 1;
const maxGrowSteps = 8;
const rowsPerModel = 16;

/** `30→64→64→1` */
export function describeMlp(options: MlpOptions): string {
  return [options.inputSize, ...options.hidden, options.outputSize].join('→');
}

/** The preset with every hidden layer 1.25× wider, rounded up to a multiple of 64. */
export function widen(options: MlpOptions): MlpOptions {
  return { ...options, hidden: options.hidden.map((size) => Math.ceil((size * 1.25) / 64) * 64) };
}

function encodeRequest(name: string, inputName: string, row: Float32Array): Uint8Array {
  const raw = new Uint8Array(row.byteLength);
  const view = new DataView(raw.buffer);
  row.forEach((value, index) => view.setFloat32(index * 4, value, true));
  return inference.ModelInferRequest.encode(
    inference.ModelInferRequest.fromPartial({
      modelName: name,
      inputs: [{ name: inputName, datatype: 'FP32', shape: [1n, BigInt(row.length)] }],
      rawInputContents: [raw],
    }),
  ).finish();
}

interface Measured {
  readonly singleRowMs: number;
  readonly singleRowP10Ms: number;
  readonly expected: Float32Array;
}

/** Median of sequential single-row runs: 20 warm-up runs, then up to 300 runs or 3 s. */
async function measureSingleRow(
  bytes: Uint8Array,
  inputName: string,
  outputName: string,
  rows: readonly Float32Array[],
): Promise<Measured> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds = (row: Float32Array) => ({ [inputName]: new ort.Tensor('float32', row, [1, row.length]) });
    const first = await session.run(feeds(rows[0]!), [outputName]);
    const expected = Float32Array.from(first[outputName]!.data as Float32Array);
    for (let i = 0; i < 20; i++) await session.run(feeds(rows[i % rows.length]!), [outputName]);
    const times: number[] = [];
    const end = performance.now() + 3_000;
    while (times.length < 300 && performance.now() < end) {
      const t0 = performance.now();
      await session.run(feeds(rows[times.length % rows.length]!), [outputName]);
      times.push(performance.now() - t0);
    }
    return { singleRowMs: median(times), singleRowP10Ms: percentile(times, 10), expected };
  } finally {
    await session.release();
  }
}

async function writeModel(
  dir: string,
  name: string,
  options: MlpOptions,
  measured: Measured,
  bytes: Uint8Array,
  rows: Float32Array[],
): Promise<BenchModel> {
  const file = path.join(dir, `${name}.onnx`);
  const repository = path.join(dir, `repo-${name}`);
  await mkdir(path.join(repository, name, '1'), { recursive: true });
  await writeFile(file, bytes);
  await writeFile(path.join(repository, name, '1', 'model.onnx'), bytes);
  return {
    name,
    shape: describeMlp(options),
    options,
    inputName: 'input',
    outputName: 'output',
    inputSize: options.inputSize,
    outputSize: options.outputSize,
    file,
    fileBytes: bytes.byteLength,
    repository,
    rows,
    requests: rows.map((row) => encodeRequest(name, 'input', row)),
    expected: measured.expected,
    singleRowMs: measured.singleRowMs,
    singleRowP10Ms: measured.singleRowP10Ms,
  };
}

function formatSingleRow(measured: Measured): string {
  return `single row median ${measured.singleRowMs.toFixed(3)} ms, p10 ${measured.singleRowP10Ms.toFixed(3)} ms`;
}

function makeRows(inputSize: number, seed: number): Float32Array[] {
  const random = createSeededRandom(seed);
  return Array.from({ length: rowsPerModel }, () =>
    Float32Array.from({ length: inputSize }, () => random.normal()),
  );
}

/**
 * Builds the tiny MLP (`MLP_PRESETS.tiny`) and the heavy one (`MLP_PRESETS.heavy`, widened until a
 * single row costs at least {@link HEAVY_MIN_SINGLE_ROW_MS} in onnxruntime on this machine) and
 * writes them under `dir`. `log` receives one line per measurement.
 */
export async function prepareModels(dir: string, log: (line: string) => void): Promise<BenchModel[]> {
  const tinyOptions: MlpOptions = MLP_PRESETS.tiny;
  const tiny = buildMlp(tinyOptions);
  const tinyRows = makeRows(tinyOptions.inputSize, 101);
  const tinyMeasured = await measureSingleRow(tiny.bytes, tiny.inputName, tiny.outputName, tinyRows);
  log(`tiny  ${describeMlp(tinyOptions)}: ${formatSingleRow(tinyMeasured)}`);

  let heavyOptions: MlpOptions = MLP_PRESETS.heavy;
  const heavyRows = makeRows(heavyOptions.inputSize, 202);
  let heavy = buildMlp(heavyOptions);
  let heavyMeasured = await measureSingleRow(heavy.bytes, heavy.inputName, heavy.outputName, heavyRows);
  log(`heavy ${describeMlp(heavyOptions)}: ${formatSingleRow(heavyMeasured)}`);
  for (let step = 0; heavyMeasured.singleRowP10Ms < HEAVY_MIN_SINGLE_ROW_MS; step++) {
    if (step === maxGrowSteps) {
      log(`heavy model stays below ${HEAVY_MIN_SINGLE_ROW_MS} ms after ${maxGrowSteps} widenings; using it`);
      break;
    }
    heavyOptions = widen(heavyOptions);
    heavy = buildMlp(heavyOptions);
    heavyMeasured = await measureSingleRow(heavy.bytes, heavy.inputName, heavy.outputName, heavyRows);
    log(
      `heavy ${describeMlp(heavyOptions)}: ${formatSingleRow(heavyMeasured)} (widened: p10 was < ${HEAVY_MIN_SINGLE_ROW_MS} ms)`,
    );
  }
  return [
    await writeModel(dir, 'tiny', tinyOptions, tinyMeasured, tiny.bytes, tinyRows),
    await writeModel(dir, 'heavy', heavyOptions, heavyMeasured, heavy.bytes, heavyRows),
  ];
}
