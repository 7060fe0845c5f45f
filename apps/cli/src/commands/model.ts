import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type registry } from '@slipway/contracts';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { Run } from '../run.js';
import { UPLOAD_CHUNK_BYTES, uploadModelVersion } from '@slipway/registry-client';
import { UsageError } from '../exit-codes.js';
import { parseModelRef } from '../model-ref.js';
import { formatBytes, formatTime, printFields, printJson, printTable } from '../output.js';

interface RegisterOptions {
  name: string;
  file: string;
  featureSet?: string;
  metrics?: string;
  dataSnapshot?: string;
  params?: string;
  codeVersion?: string;
  parent?: string;
  referenceProfile?: string;
  description?: string;
  tag: string[];
}

/** `slipway model register|list|show`. */
export function modelCommands(program: Command, run: Run): void {
  const model = program.command('model').description('register, list and inspect model versions');

  model
    .command('register')
    .description('upload an ONNX file as the next version of a model')
    .requiredOption('--name <model>', 'model name, e.g. fraud')
    .requiredOption('--file <path>', 'the ONNX file')
    .option('--feature-set <ref>', 'fitted feature set: name@version:content-hash')
    .option('--metrics <file>', 'evaluation metrics JSON: [{name, value, dataset}] or {name: value}')
    .option(
      '--data-snapshot <file>',
      'training data snapshot JSON: {sha256, rowCount, startTime, endTime, location}',
    )
    .option('--params <json|file>', 'training parameters as JSON or a JSON file')
    .option('--code-version <version>', 'code version, e.g. a git commit')
    .option('--parent <version>', 'the version this one was derived from')
    .option('--reference-profile <file>', 'reference profile for drift detection (JSON)')
    .option('--description <text>', 'free text')
    .option('--tag <key=value>', 'a tag (repeatable)', collect, [])
    .action(
      run(async (ctx, cmd) => {
        const opts = cmd.opts<RegisterOptions>();
        const header = buildHeader(opts);
        const size = (await stat(opts.file)).size;
        header.sha256 = await sha256File(opts.file);
        header.size = BigInt(size);
        const bar = !ctx.json && process.stderr.isTTY ? progressBar(size) : undefined;
        try {
          const version = await uploadModelVersion(
            ctx.models(),
            header,
            createReadStream(opts.file, { highWaterMark: UPLOAD_CHUNK_BYTES }),
            { onProgress: (sent) => bar?.update(sent) },
          );
          bar?.stop();
          if (ctx.json) return printJson(version);
          process.stdout.write(
            `registered ${version.model}@${version.version} (${formatBytes(Number(version.artifactSize))}, sha256 ${version.artifactSha256.slice(0, 12)}…)\n`,
          );
        } finally {
          bar?.stop();
        }
      }),
    );

  model
    .command('update <ref>')
    .description('change the description or tags of a version (fraud@7); audited')
    .option('--description <text>', 'new description')
    .option('--tag <key=value>', 'set a tag (repeatable)', collect, [])
    .option('--remove-tag <key>', 'remove a tag (repeatable)', collect, [])
    .option('--reason <text>', 'why, for the audit log')
    .action(
      run(async (ctx, cmd) => {
        const ref = parseModelRef(String(cmd.args[0]));
        if (!ref.version)
          throw new UsageError(`"${String(cmd.args[0])}" must name a version number, e.g. fraud@7`);
        const opts = cmd.opts<{
          description?: string;
          tag: string[];
          removeTag: string[];
          reason?: string;
        }>();
        const { version } = await ctx.models().updateModelVersion({
          model: ref.model,
          version: ref.version,
          description: opts.description,
          setTags: parseTags(opts.tag),
          removeTags: opts.removeTag,
          reason: opts.reason ?? '',
        });
        if (ctx.json) return printJson(version);
        printVersion(version!);
      }),
    );

  model
    .command('list')
    .description('every model with its latest version and aliases')
    .action(
      run(async (ctx) => {
        const { models } = await ctx.models().listModels({});
        if (ctx.json) return printJson(models);
        printTable(
          ['model', 'latest', 'versions', 'aliases', 'updated'],
          models.map((m) => [
            m.name,
            m.latestVersion,
            m.versionCount,
            Object.entries(m.aliases)
              .map(([alias, version]) => `${alias}→${version}`)
              .join(' '),
            formatTime(m.updatedAt),
          ]),
        );
      }),
    );

  model
    .command('show <ref>')
    .description('one version (fraud, fraud@7, fraud@champion): signature, lineage, metrics')
    .option('--versions', 'list every version of the model instead')
    .action(
      run(async (ctx, cmd) => {
        const ref = parseModelRef(String(cmd.args[0]));
        if (cmd.opts<{ versions?: boolean }>().versions) {
          const { versions } = await ctx.models().listModelVersions({ model: ref.model });
          if (ctx.json) return printJson(versions);
          printTable(
            ['version', 'sha256', 'size', 'aliases', 'created', 'by', 'description'],
            versions.map((v) => [
              v.version,
              v.artifactSha256.slice(0, 12),
              formatBytes(Number(v.artifactSize)),
              v.aliases.join(' '),
              formatTime(v.createdAt),
              v.createdBy,
              v.description,
            ]),
          );
          return;
        }
        const { version } = await ctx.models().getModelVersion(ref);
        if (ctx.json) return printJson(version);
        printVersion(version!);
      }),
    );
}

function printVersion(v: registry.ModelVersion): void {
  const lineage = v.lineage;
  const sig = v.signature;
  printFields([
    ['model', `${v.model}@${v.version}`],
    ['aliases', v.aliases.join(', ')],
    ['artifact', `sha256:${v.artifactSha256} (${formatBytes(Number(v.artifactSize))})`],
    ['created', `${formatTime(v.createdAt)} by ${v.createdBy}`],
    ['description', v.description],
    [
      'tags',
      Object.entries(v.tags)
        .map(([k, val]) => `${k}=${val}`)
        .join(' '),
    ],
    ['producer', sig ? `${sig.producerName} ${sig.producerVersion}`.trim() : ''],
    ['opsets', sig?.opsets.map((o) => `${o.domain || 'ai.onnx'}:${o.version}`).join(' ')],
    [
      'feature set',
      lineage?.featureSet?.name
        ? `${lineage.featureSet.name}@${lineage.featureSet.version} (${lineage.featureSet.contentHash.slice(0, 12)}…)`
        : '',
    ],
    [
      'data snapshot',
      lineage?.dataSnapshot?.sha256
        ? `sha256:${lineage.dataSnapshot.sha256.slice(0, 12)}… ${lineage.dataSnapshot.rowCount} rows ${lineage.dataSnapshot.location}`
        : '',
    ],
    ['code version', lineage?.codeVersion],
    ['parent', lineage?.parentVersion ? String(lineage.parentVersion) : ''],
    ['params', lineage?.params ? JSON.stringify(lineage.params) : ''],
  ]);
  if (sig) {
    process.stdout.write('\n');
    const tensor = (io: string) => (t: registry.TensorSignature) => [
      io,
      t.name,
      t.kind === 'tensor' ? t.datatype || t.onnxType : t.kind,
      t.rankKnown
        ? `[${t.shape.map((d, i) => (d < 0n ? t.dimParams[i] || '?' : String(d))).join(', ')}]`
        : 'any',
    ];
    printTable(
      ['', 'tensor', 'type', 'shape'],
      [...sig.inputs.map(tensor('in')), ...sig.outputs.map(tensor('out'))],
    );
  }
  if (lineage?.metrics.length) {
    process.stdout.write('\n');
    printTable(
      ['metric', 'value', 'dataset'],
      lineage.metrics.map((m) => [m.name, Number(m.value.toPrecision(6)), m.dataset]),
    );
  }
}

function buildHeader(opts: RegisterOptions): registry.RegisterModelVersionRequest_Header {
  const tags = parseTags(opts.tag);
  const lineage: registry.Lineage = {
    dataSnapshot: opts.dataSnapshot
      ? parseSnapshot(readJson(opts.dataSnapshot, '--data-snapshot'))
      : undefined,
    featureSet: opts.featureSet ? parseFeatureSetRef(opts.featureSet) : undefined,
    params: opts.params ? (readJsonOrInline(opts.params, '--params') as Record<string, unknown>) : undefined,
    codeVersion: opts.codeVersion ?? '',
    parentVersion: opts.parent ? parseVersion(opts.parent, '--parent') : 0,
    metrics: opts.metrics ? parseMetrics(readJson(opts.metrics, '--metrics')) : [],
    referenceProfile: opts.referenceProfile ? readFileSync(opts.referenceProfile) : new Uint8Array(),
  };
  return {
    model: opts.name,
    sha256: '',
    size: 0n,
    lineage,
    description: opts.description ?? '',
    tags,
  };
}

function parseTags(pairs: string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of pairs) {
    const eq = tag.indexOf('=');
    if (eq <= 0) throw new UsageError(`--tag "${tag}" must be key=value`);
    tags[tag.slice(0, eq)] = tag.slice(eq + 1);
  }
  return tags;
}

function parseFeatureSetRef(text: string): registry.FeatureSetRef {
  const match = /^([^@:]+)@(\d+):([0-9a-f]{8,64})$/.exec(text);
  if (!match) throw new UsageError(`--feature-set "${text}" must be name@version:content-hash`);
  return { name: match[1]!, version: Number(match[2]), contentHash: match[3]! };
}

function parseSnapshot(value: unknown): registry.DataSnapshot {
  if (typeof value !== 'object' || value === null)
    throw new UsageError('--data-snapshot must hold a JSON object');
  const v = value as Record<string, unknown>;
  const time = (key: string) => (typeof v[key] === 'string' ? new Date(v[key] as string) : undefined);
  return {
    sha256: String(v['sha256'] ?? ''),
    rowCount: BigInt(Number(v['rowCount'] ?? v['row_count'] ?? 0)),
    startTime: time('startTime') ?? time('start_time'),
    endTime: time('endTime') ?? time('end_time'),
    location: String(v['location'] ?? ''),
  };
}

function parseMetrics(value: unknown): registry.EvaluationMetric[] {
  if (Array.isArray(value)) {
    return value.map((m: Record<string, unknown>) => ({
      name: String(m['name']),
      value: Number(m['value']),
      dataset: String(m['dataset'] ?? ''),
    }));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).map(([name, v]) => ({ name, value: Number(v), dataset: '' }));
  }
  throw new UsageError(
    '--metrics must hold a JSON array of {name, value, dataset} or an object of name: value',
  );
}

function parseVersion(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} "${text}" is not a version number`);
  return Number(text);
}

function readJson(file: string, flag: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${(err as Error).message}`);
  }
}

function readJsonOrInline(text: string, flag: string): unknown {
  return text.trimStart().startsWith('{') ? JSON.parse(text) : readJson(text, flag);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function progressBar(total: number): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    { format: 'uploading [{bar}] {percentage}% {value}/{total} bytes', stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}
