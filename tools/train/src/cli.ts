import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidArgumentError } from '@slipway/errors';
import { parseFeatureSetSpec, type FeatureSetSpec } from '@slipway/features';
import { writeArtifacts } from './artifacts.js';
import { inferFeatureSetSpec } from './auto-spec.js';
import { ALGORITHMS, type Algorithm, type AlgorithmOptions } from './classifier.js';
import { createCsvDataSource, createDemoDataSource, type TrainingDataSource } from './data-source.js';
import { DEMO_FEATURE_SET_SPEC } from './demo-feature-set.js';
import { parseDuration, publishDemoFeatures } from './demo-features.js';
import { createFeatureServiceClient, type FeatureServiceClient } from './feature-client.js';
import { buildLineage, resolveCodeVersion } from './lineage.js';
import { trainModel, type SplitOptions, type TrainedModel, type TrainOptions } from './pipeline.js';
import { createGrpcRegistrar, registrationHeader, type ModelRegistrar } from './register.js';

/** Usage text of `slipway train`. */
export const USAGE = `usage:
  slipway train demo [--rows N] [--seed N] [--algorithm logreg|gbt] [--model fraud] [--deploy NAME]
                     [--no-register] [--out DIR] [--features HOST:PORT [--label-delay 7d]]
                     [common options]
  slipway train csv --file CSV --target COLUMN --positive VALUE [--drop col,...] [--categorical col,...]
                    [--spec spec.json] [--time-column COLUMN] [--algorithm logreg|gbt] [--seed N]
                    [--out DIR] [--register --model NAME [--deploy NAME]] [common options]

common options:
  --holdout F          share held out for evaluation (default 0.2; time-based when there is a time column)
  --registry HOST:PORT registry address (default $SLIPWAY_REGISTRY_ADDR or 127.0.0.1:7001)
  --token TOKEN        registry and feature-service token (default $SLIPWAY_TOKEN)
  --features HOST:PORT demo: write the user features to this feature service, train on historical
                       retrieval as of each transaction, register the fitted feature set there;
                       labels go to --out/labels.jsonl, arriving --label-delay (7d) after the event
  --parent N           parent model version recorded in lineage
  --json               print the summary as one JSON object
  --feature-set NAME   automatic spec name (csv; default: the file name)
  --entity-key FIELD   entity key recorded in the automatic spec (csv; default row_number)
  --min-frequency N    one-hot keeps categories seen at least N times (csv automatic spec; default 5)
  logreg: --l2 X (default 0.001)
  gbt:    --trees N (100) --learning-rate X (0.1) --max-depth N (3) --min-samples-leaf N (20)
          --subsample X (0.8) --max-bins N (256)`;

/** Where the CLI writes and what it may replace in tests. */
export interface CliIo {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Opens the registry; defaults to {@link createGrpcRegistrar}. */
  readonly createRegistrar?: (address: string, token: string | undefined) => ModelRegistrar;
  /** Opens the feature service (`--features`); defaults to {@link createFeatureServiceClient}. */
  readonly createFeatureClient?: (address: string, token: string | undefined) => FeatureServiceClient;
}

const OPTIONS = {
  // demo
  rows: { type: 'string' },
  'no-register': { type: 'boolean' },
  deploy: { type: 'string' },
  'amount-shift': { type: 'string' },
  features: { type: 'string' },
  'label-delay': { type: 'string' },
  // csv
  file: { type: 'string' },
  target: { type: 'string' },
  positive: { type: 'string' },
  drop: { type: 'string' },
  categorical: { type: 'string' },
  spec: { type: 'string' },
  'time-column': { type: 'string' },
  'feature-set': { type: 'string' },
  'entity-key': { type: 'string' },
  'min-frequency': { type: 'string' },
  register: { type: 'boolean' },
  // common
  algorithm: { type: 'string' },
  seed: { type: 'string' },
  holdout: { type: 'string' },
  out: { type: 'string' },
  model: { type: 'string' },
  registry: { type: 'string' },
  token: { type: 'string' },
  parent: { type: 'string' },
  json: { type: 'boolean' },
  l2: { type: 'string' },
  trees: { type: 'string' },
  'learning-rate': { type: 'string' },
  'max-depth': { type: 'string' },
  'min-samples-leaf': { type: 'string' },
  subsample: { type: 'string' },
  'max-bins': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

/** Bounds of a numeric option: `min`/`max` inclusive, `above`/`below` exclusive. */
interface NumberRule {
  readonly integer?: boolean;
  readonly min?: number;
  readonly above?: number;
  readonly max?: number;
  readonly below?: number;
}

function numberOption(values: Values, name: keyof Values, fallback: number, rule: NumberRule = {}): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  const ok =
    Number.isFinite(n) &&
    (!rule.integer || Number.isInteger(n)) &&
    (rule.min === undefined || n >= rule.min) &&
    (rule.above === undefined || n > rule.above) &&
    (rule.max === undefined || n <= rule.max) &&
    (rule.below === undefined || n < rule.below);
  if (!ok) {
    const bounds = [
      rule.min === undefined ? '' : `≥ ${rule.min}`,
      rule.above === undefined ? '' : `> ${rule.above}`,
      rule.max === undefined ? '' : `≤ ${rule.max}`,
      rule.below === undefined ? '' : `< ${rule.below}`,
    ].filter((b) => b !== '');
    throw new UsageError(
      `--${String(name)} must be ${rule.integer ? 'an integer' : 'a number'}${bounds.length > 0 ? ` ${bounds.join(' and ')}` : ''}, got "${String(raw)}"`,
    );
  }
  return n;
}

function listOption(raw: string | undefined): string[] {
  return raw === undefined
    ? []
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}

function algorithmOptions(values: Values): AlgorithmOptions {
  return {
    logreg: { l2: numberOption(values, 'l2', 1e-3, { min: 0 }) },
    gbt: {
      nEstimators: numberOption(values, 'trees', 100, { integer: true, min: 1 }),
      learningRate: numberOption(values, 'learning-rate', 0.1, { above: 0 }),
      maxDepth: numberOption(values, 'max-depth', 3, { integer: true, min: 1, max: 16 }),
      minSamplesLeaf: numberOption(values, 'min-samples-leaf', 20, { integer: true, min: 1 }),
      subsample: numberOption(values, 'subsample', 0.8, { above: 0, max: 1 }),
      maxBins: numberOption(values, 'max-bins', 256, { integer: true, min: 2, max: 256 }),
    },
  };
}

/** Every raw field a spec reads, so a spec that reads the label can be refused. */
function fieldsRead(spec: FeatureSetSpec): Set<string> {
  const fields = new Set<string>();
  for (const f of spec.features) {
    const s = f.source;
    if ('field' in s) fields.add(s.field);
    else if ('ratio' in s) s.ratio.forEach((x) => fields.add(x));
    else if ('requestTime' in s) fields.add(s.requestTime);
    else {
      fields.add(s.time.field);
      if (s.time.since !== undefined) fields.add(s.time.since);
    }
  }
  return fields;
}

async function readSpec(file: string): Promise<FeatureSetSpec> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new InvalidArgumentError(`cannot read feature-set spec ${file} as JSON; check --spec`, { cause });
  }
  return parseFeatureSetSpec(json);
}

interface Plan {
  readonly source: TrainingDataSource;
  readonly spec: TrainOptions['spec'];
  readonly split: SplitOptions;
  readonly register: boolean;
  readonly model: string | undefined;
  readonly description: string;
  readonly tags: Record<string, string>;
  readonly warnings: string[];
  /** With `--features`: where the fitted feature set is registered. */
  readonly featureClient?: FeatureServiceClient;
  /** Extra summary lines (e.g. the feature events written). */
  readonly notes?: Record<string, string>;
}

interface FeatureAccess {
  readonly token: string | undefined;
  readonly open: (address: string, token: string | undefined) => FeatureServiceClient;
  /** Receives the opened client at once, so the caller closes it even when planning fails. */
  readonly opened: (client: FeatureServiceClient) => void;
}

async function planDemo(values: Values, seed: number, access: FeatureAccess): Promise<Plan> {
  if (values.deploy !== undefined && values['no-register']) {
    throw new UsageError('--deploy deploys the registered version; drop --no-register or --deploy');
  }
  const rows = numberOption(values, 'rows', 20_000, { integer: true, min: 100 });
  const amountShift = numberOption(values, 'amount-shift', 0);
  const dataOptions = { rows, seed, ...(amountShift === 0 ? {} : { amountShift }) };
  let source: TrainingDataSource = createDemoDataSource(dataOptions);
  let featureClient: FeatureServiceClient | undefined;
  const notes: Record<string, string> = {};
  if (values['label-delay'] !== undefined && values.features === undefined) {
    throw new UsageError('--label-delay needs --features');
  }
  if (values.features !== undefined) {
    const labelDelayMs = parseDuration(values['label-delay'] ?? '7d');
    if (labelDelayMs === undefined) {
      throw new UsageError(
        `--label-delay must be a duration such as 30m, 48h or 7d, got "${values['label-delay']}"`,
      );
    }
    featureClient = access.open(values.features, access.token);
    access.opened(featureClient);
    const published = await publishDemoFeatures({
      ...dataOptions,
      client: featureClient,
      labelDelayMs,
      ...(values.out === undefined ? {} : { outDir: path.resolve(values.out) }),
    });
    source = published.source;
    notes['features'] = `${values.features}: ${published.events} user feature events written`;
    if (published.labelsFile !== undefined) notes['labels'] = published.labelsFile;
  }
  return {
    source,
    ...(featureClient === undefined ? {} : { featureClient, notes }),
    spec: DEMO_FEATURE_SET_SPEC,
    split: {
      kind: 'time',
      holdout: numberOption(values, 'holdout', 0.2, { above: 0, below: 1 }),
    },
    register: !values['no-register'],
    model: values.model ?? 'fraud',
    description: 'demo fraud model on generated card transactions',
    tags: { use_case: 'fraud', trainer: 'slipway-train-demo' },
    warnings: [],
  };
}

async function planCsv(values: Values): Promise<Plan> {
  for (const flag of ['file', 'target', 'positive'] as const) {
    if (values[flag] === undefined) throw new UsageError(`slipway train csv needs --${flag}`);
  }
  const file = values.file!;
  const target = values.target!;
  const timeColumn = values['time-column'];
  const source = createCsvDataSource({
    file,
    target,
    positive: values.positive!,
    ...(timeColumn === undefined ? {} : { timeColumn }),
  });
  const drop = listOption(values.drop);
  const categorical = listOption(values.categorical);
  const warnings: string[] = [];
  let spec: Plan['spec'];
  if (values.spec !== undefined) {
    const shaping = ['drop', 'categorical', 'min-frequency', 'feature-set', 'entity-key'] as const;
    const conflicting = shaping.filter((flag) => values[flag] !== undefined);
    if (conflicting.length > 0) {
      throw new UsageError(
        `${conflicting.map((f) => `--${f}`).join(', ')} shape the automatic spec; with --spec, edit the spec instead`,
      );
    }
    const given = await readSpec(values.spec);
    if (fieldsRead(given).has(target)) {
      throw new InvalidArgumentError(
        `feature-set spec ${values.spec} reads the target column "${target}"; remove that feature`,
      );
    }
    spec = given;
  } else {
    const minFrequency = numberOption(values, 'min-frequency', 5, { integer: true, min: 1 });
    const name = values['feature-set'] ?? path.basename(file).replace(/\.[^.]*$/, '');
    const entityKey = values['entity-key'];
    spec = (rows, data) => {
      const inferred = inferFeatureSetSpec(rows, data.fields, {
        name,
        exclude: [target, ...(timeColumn === undefined ? [] : [timeColumn]), ...drop],
        categorical,
        minFrequency,
        ...(entityKey === undefined ? {} : { entityKeys: [entityKey] }),
      });
      if (inferred.skipped.length > 0)
        warnings.push(`no values to fit in ${inferred.skipped.join(', ')}: left out`);
      return inferred.spec;
    };
  }
  const register = values.register === true;
  if (register && values.model === undefined) throw new UsageError('--register needs --model NAME');
  return {
    source,
    spec,
    split: {
      kind: timeColumn === undefined ? 'stratified' : 'time',
      holdout: numberOption(values, 'holdout', 0.2, { above: 0, below: 1 }),
    },
    register,
    model: values.model,
    description: `trained by slipway train csv on ${path.basename(file)}`,
    tags: { trainer: 'slipway-train-csv' },
    warnings,
  };
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}

function summaryOf(trained: TrainedModel, source: TrainingDataSource): Record<string, unknown> {
  const h = trained.evaluation.holdout;
  return {
    data: source.description,
    snapshot: { sha256: trained.snapshot.sha256, rows: trained.snapshot.rowCount },
    featureSet: `${trained.fitted.spec.name}@${trained.fitted.spec.version} ${trained.fitted.contentHash}`,
    algorithm: trained.classifier.algorithm,
    split: trained.params['split'],
    metrics: {
      auc: round(h.auc),
      log_loss: round(h.logLoss),
      accuracy: round(h.accuracy),
      brier: round(h.brier),
      ece: round(h.calibration.ece),
      train_auc: round(trained.evaluation.train.auc),
    },
    maxOnnxDeviation: trained.maxOnnxDeviation,
    input: `input FP32 [batch, ${trained.columns.length}] = transform(${trained.fitted.spec.name}@${trained.fitted.spec.version}, row)`,
    columns: [...trained.columns],
  };
}

/**
 * Runs `slipway train <command> …` and returns the exit code: 0 done, 1 failed (the message
 * names the problem), 2 usage error.
 */
export async function runTrainCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const out = io.stdout ?? ((text: string) => process.stdout.write(`${text}\n`));
  const err = io.stderr ?? ((text: string) => process.stderr.write(`${text}\n`));
  const env = io.env ?? process.env;
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    err(`slipway train: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const command = positionals[0];
  if (values.help || command === 'help') {
    out(USAGE);
    return 0;
  }
  let registrar: ModelRegistrar | undefined;
  let featureClient: FeatureServiceClient | undefined;
  try {
    if (positionals.length !== 1 || (command !== 'demo' && command !== 'csv')) {
      throw new UsageError(`unknown command "${positionals.join(' ')}"; use demo or csv`);
    }
    const algorithm = (values.algorithm ?? 'logreg') as Algorithm;
    if (!ALGORITHMS.includes(algorithm)) {
      throw new UsageError(`--algorithm must be one of ${ALGORITHMS.join(', ')}, got "${values.algorithm}"`);
    }
    const parent = numberOption(values, 'parent', 0, { integer: true, min: 0, max: 2 ** 31 - 1 });
    const seed = numberOption(values, 'seed', 42, { integer: true, min: 0, max: 2 ** 32 - 1 });
    if (values.deploy !== undefined && command === 'csv' && !values.register) {
      throw new UsageError('--deploy needs --register');
    }
    if (values.features !== undefined && command !== 'demo') {
      throw new UsageError('--features is only for slipway train demo');
    }
    const token = values.token ?? env['SLIPWAY_TOKEN'];
    const plan =
      command === 'demo'
        ? await planDemo(values, seed, {
            token,
            open:
              io.createFeatureClient ??
              ((a, t) => createFeatureServiceClient({ address: a, ...(t ? { token: t } : {}) })),
            opened: (client) => {
              featureClient = client;
            },
          })
        : await planCsv(values);
    const trained = await trainModel({
      data: await plan.source.load(),
      spec: plan.spec,
      algorithm,
      algorithmOptions: algorithmOptions(values),
      split: plan.split,
      seed,
    });
    for (const w of plan.warnings) err(`warning: ${w}`);
    const lineage = buildLineage(trained, {
      codeVersion: resolveCodeVersion(env, io.cwd ?? process.cwd()),
      parentVersion: parent,
    });
    const summary = { ...summaryOf(trained, plan.source), ...plan.notes };
    if (values.out !== undefined) {
      await writeArtifacts(values.out, trained, lineage);
      summary['out'] = path.resolve(io.cwd ?? process.cwd(), values.out);
    }
    if (plan.featureClient !== undefined) {
      // Before the model: a deployed model's feature set must already be servable.
      const registered = await plan.featureClient.registerFeatureSet(trained.featureSetJson);
      summary['featureSetRegistered'] =
        `${registered.ref}${registered.created ? '' : ' (already registered)'}`;
    }
    if (plan.register) {
      const address = values.registry ?? (env['SLIPWAY_REGISTRY_ADDR'] || '127.0.0.1:7001');
      registrar = (
        io.createRegistrar ?? ((a, t) => createGrpcRegistrar({ address: a, ...(t ? { token: t } : {}) }))
      )(address, token);
      const version = await registrar.register(
        registrationHeader(plan.model!, trained.onnx, lineage, `${plan.description} (${algorithm})`, {
          ...plan.tags,
          algorithm,
          feature_set: `${trained.fitted.spec.name}@${trained.fitted.spec.version}`,
        }),
        trained.onnx,
      );
      summary['registered'] = `${version.model}@${version.version}`;
      if (values.deploy !== undefined) {
        const revision = await registrar.deploy(
          values.deploy,
          version,
          `${version.model}@${version.version} deployed by slipway train ${command}`,
        );
        summary['deployed'] = `${values.deploy} (revision ${revision})`;
      }
    }
    out(
      values.json
        ? JSON.stringify(summary)
        : Object.entries(summary)
            .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join('\n'),
    );
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err(`slipway train: ${error.message}\n${USAGE}`);
      return 2;
    }
    err(`slipway train: ${(error as Error).message}`);
    return 1;
  } finally {
    registrar?.close();
    featureClient?.close();
  }
}
