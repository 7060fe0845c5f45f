import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { registry } from '@slipway/contracts';
import { parseFitted } from '@slipway/features';
import { createSeededRandom } from '@slipway/onnx';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { runTrainCli } from './cli.js';
import type { ModelRegistrar } from './register.js';

async function run(argv: string[], registrar?: ModelRegistrar) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runTrainCli(argv, {
    stdout: (t) => stdout.push(t),
    stderr: (t) => stderr.push(t),
    env: {},
    ...(registrar === undefined ? {} : { createRegistrar: () => registrar }),
  });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

/** A small CSV with a numeric signal, a categorical signal, a label copy and quoting. */
async function writeCsv(dir: string): Promise<string> {
  const random = createSeededRandom(12);
  const lines = ['score,"segment, kind",label_copy,outcome'];
  for (let i = 0; i < 400; i++) {
    const segment = ['north', 'south', 'east'][random.int(3)]!;
    const score = random.normal();
    const bad =
      random.next() < 1 / (1 + Math.exp(-(1.5 * score + (segment === 'east' ? 1 : -0.5)))) ? 'bad' : 'good';
    lines.push(`${score.toFixed(4)},"${segment}",${bad === 'bad' ? 1 : 0},${bad}`);
  }
  const file = path.join(dir, 'loans.csv');
  await writeFile(file, `${lines.join('\r\n')}\r\n`);
  return file;
}

describe('slipway train csv', () => {
  it('trains with an automatic spec, writes the artifacts and registers with lineage', async () => {
    const dir = await createTempDir('train-cli-');
    const file = await writeCsv(dir.path);
    const headers: registry.RegisterModelVersionRequest_Header[] = [];
    const registrar: ModelRegistrar = {
      register: async (header) => (
        headers.push(header),
        registry.ModelVersion.fromPartial({ model: header.model, version: 4 })
      ),
      deploy: async () => 2n,
      close: () => undefined,
    };
    const out = path.join(dir.path, 'out');
    const result = await run(
      [
        'csv',
        '--file',
        file,
        '--target',
        'outcome',
        '--positive',
        'bad',
        '--drop',
        'label_copy',
        '--algorithm',
        'gbt',
        '--trees',
        '40',
        '--seed',
        '3',
        '--out',
        out,
        '--register',
        '--model',
        'loans',
        '--min-frequency',
        '1',
        '--json',
      ],
      registrar,
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.columns).toEqual([
      'score__standardize',
      'segment_kind=east',
      'segment_kind=north',
      'segment_kind=south',
      'segment_kind=__unknown__',
    ]);
    expect(summary.registered).toBe('loans@4');
    expect(summary.metrics.auc).toBeGreaterThan(0.7);
    const lineage = headers[0]!.lineage!;
    const fitted = parseFitted(await readFile(path.join(out, 'feature-set.json')));
    expect(lineage.featureSet!.contentHash).toBe(fitted.contentHash);
    expect(fitted.spec.name).toBe('loans');
    expect(lineage.params).toMatchObject({
      algorithm: 'gbt',
      seed: 3,
      hyperparameters: {
        nEstimators: 40,
        maxDepth: 3,
        learningRate: 0.1,
        minSamplesLeaf: 20,
        subsample: 0.8,
      },
      split: { kind: 'stratified', holdout: 0.2, seed: 3, trainRows: 320, holdoutRows: 80 },
      target: { field: 'outcome', positive: 'bad' },
    });
    expect(lineage.dataSnapshot!.location).toBe(file);
    expect(lineage.dataSnapshot!.startTime).toBeUndefined();
    expect(headers[0]!.tags).toMatchObject({ algorithm: 'gbt', feature_set: 'loans@1' });
  });

  it('trains with a given spec and refuses one that reads the target', async () => {
    const dir = await createTempDir('train-cli-');
    const file = await writeCsv(dir.path);
    const spec = (field: string) => ({
      name: 'loans_manual',
      version: 2,
      entityKeys: ['loan_id'],
      features: [
        {
          name: 'score',
          source: { field },
          kind: 'numeric',
          transforms: [{ type: 'clip', min: -3, max: 3 }],
        },
      ],
    });
    const good = path.join(dir.path, 'spec.json');
    await writeFile(good, JSON.stringify(spec('score')));
    const ok = await run([
      'csv',
      '--file',
      file,
      '--target',
      'outcome',
      '--positive',
      'bad',
      '--spec',
      good,
      '--json',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      columns: ['score__clip'],
      featureSet: expect.stringMatching(/^loans_manual@2 /),
    });
    const leaky = path.join(dir.path, 'leak.json');
    await writeFile(leaky, JSON.stringify(spec('outcome')));
    const refused = await run([
      'csv',
      '--file',
      file,
      '--target',
      'outcome',
      '--positive',
      'bad',
      '--spec',
      leaky,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/reads the target column "outcome"/);
  });

  it('answers usage errors with exit code 2 and the usage text', async () => {
    const cases = [
      ['nope'],
      ['csv', '--file', 'x.csv', '--target', 'y'],
      ['demo', '--algorithm', 'forest'],
      ['demo', '--rows', 'many'],
      ['demo', '--unknown-flag'],
      ['demo', '--deploy', 'fraud', '--no-register'],
      ['demo', '--holdout', '1'],
      ['csv', '--file', 'x.csv', '--target', 'y', '--positive', '1', '--register'],
      ['demo', '--label-delay', '2d'],
      ['demo', '--features', '127.0.0.1:1', '--label-delay', 'soon'],
      ['csv', '--file', 'x.csv', '--target', 'y', '--positive', '1', '--features', '127.0.0.1:1'],
    ];
    for (const argv of cases) {
      const result = await run(argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr).toContain('usage:');
    }
    expect((await run(['--help'])).stdout).toContain('slipway train csv');
  });
});
