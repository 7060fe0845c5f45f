#!/usr/bin/env node
// `slipway train demo`: trains the demo fraud model on generated data, registers it with full
// lineage and (optionally) deploys it. Later issues add feature-service data and CSV training.
import { parseArgs } from 'node:util';
import { registry } from '@slipway/contracts';
import { uploadModelVersion } from '@slipway/registry-client';
import { createClient } from '@slipway/service-kit';
import { createHash } from 'node:crypto';
import { trainDemoModel } from './demo-pipeline.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    registry: { type: 'string', default: process.env['SLIPWAY_REGISTRY_ADDR'] || '127.0.0.1:7001' },
    token: { type: 'string', default: process.env['SLIPWAY_TOKEN'] },
    model: { type: 'string', default: 'fraud' },
    deploy: { type: 'string' },
    rows: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '42' },
    'no-register': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

if (positionals[0] !== 'demo') {
  console.error(
    'usage: slipway train demo [--rows N] [--seed N] [--model fraud] [--deploy fraud] [--no-register]',
  );
  process.exit(2);
}

const trained = await trainDemoModel({ rows: Number(values.rows), seed: Number(values.seed) });
const summary: Record<string, unknown> = {
  metrics: Object.fromEntries(trained.metrics.map((m) => [m.name, Number(m.value.toFixed(6))])),
  maxOnnxDeviation: trained.maxOnnxDeviation,
  rows: trained.snapshot.rowCount,
};
if (!values['no-register']) {
  const models = createClient(registry.ModelServiceService, values.registry, { token: values.token });
  const deployments = createClient(registry.DeploymentServiceService, values.registry, {
    token: values.token,
  });
  try {
    const version = await uploadModelVersion(
      models,
      {
        model: values.model,
        sha256: createHash('sha256').update(trained.onnx).digest('hex'),
        size: BigInt(trained.onnx.length),
        description: 'demo fraud model: logistic regression on generated card transactions',
        tags: { use_case: 'fraud', trainer: 'slipway-train-demo' },
        lineage: {
          dataSnapshot: { ...trained.snapshot, rowCount: BigInt(trained.snapshot.rowCount) },
          featureSet: undefined,
          params: trained.params,
          codeVersion: process.env['SLIPWAY_CODE_VERSION'] ?? '',
          parentVersion: 0,
          metrics: trained.metrics,
          referenceProfile: new Uint8Array(),
        },
      },
      [trained.onnx],
    );
    summary['registered'] = `${version.model}@${version.version}`;
    if (values.deploy) {
      const { deployment } = await deployments.applyDeployment({
        deployment: registry.Deployment.fromPartial({
          name: values.deploy,
          description: 'demo deployment created by slipway train demo',
          decisionThreshold: 0.5,
          variants: [
            {
              name: 'stable',
              model: version.model,
              version: version.version,
              role: registry.VariantRole.VARIANT_ROLE_STABLE,
              weight: 100,
            },
          ],
          strategy: { kind: registry.StrategyKind.STRATEGY_KIND_DIRECT },
        }),
        expectedRevision: 0n,
        reason: 'demo model deployed by slipway train demo',
      });
      summary['deployed'] = `${deployment!.name} (revision ${deployment!.revision})`;
    }
  } finally {
    models.close();
    deployments.close();
  }
}
console.log(
  values.json
    ? JSON.stringify(summary)
    : Object.entries(summary)
        .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join('\n'),
);
