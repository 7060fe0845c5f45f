// The built service as a process, started as in production: write, read a vector, stop cleanly.
import path from 'node:path';
import { features } from '@slipway/contracts';
import { fit, serializeFitted, transformRow } from '@slipway/features';
import { createClient } from '@slipway/service-kit';
import { createTempDir, ensureBuilt, repoRoot, startApp, useAppHarness } from '@slipway/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { bits, demoRows, demoSpec, demoViews, demoWriteRows, protoValue } from './testing/fixtures.js';

useAppHarness();

beforeAll(async () => {
  await ensureBuilt('apps/features');
});

describe('apps/features/dist/main.js', () => {
  it('starts, serves a written vector, and stops on SIGTERM with exit code 0', async () => {
    const dir = await createTempDir('features-app-');
    const app = await startApp({
      name: 'features',
      entry: path.join(repoRoot, 'apps/features/dist/main.js'),
      env: {
        SLIPWAY_FEATURES_ADDR: '127.0.0.1:0',
        SLIPWAY_FEATURES_DATA_DIR: dir.path,
        SLIPWAY_FEATURES_TOKENS: 'dep=ci:deployer',
      },
    });
    const client = createClient(features.FeatureServiceService, app.address, { token: 'dep' });
    try {
      const rows = demoRows(20);
      const fitted = fit(demoSpec, rows);
      for (const view of Object.values(demoViews)) await client.registerFeatureView(view);
      await client.registerFeatureSet({ fittedJson: serializeFitted(fitted) });
      const row = rows[3]!;
      await client.writeFeatures({ rows: demoWriteRows(row, new Date(row['ts'] as number)) });
      const served = await client.getFeatureVector({
        omitNames: false,
        featureSet: { name: demoSpec.name, version: demoSpec.version, contentHash: fitted.contentHash },
        entityKeys: { user_id: row['user_id'] as string },
        requestValues: { score: protoValue(row['score']), now_ts: protoValue(row['now_ts']) },
      });
      expect(bits(served.vector)).toEqual(bits(transformRow(fitted, row)));
    } finally {
      client.close();
    }
    const stopped = await app.stop();
    expect(stopped).toMatchObject({ code: 0, timedOut: false });
    expect(app.logs().some((line) => line.includes('shutdown complete'))).toBe(true);
  });
});
