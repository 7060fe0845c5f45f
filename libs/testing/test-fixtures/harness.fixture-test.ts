// Not part of the suite: app.test.ts runs it in a nested vitest and reads the output.
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { startApp, useAppHarness, type RunningApp } from '../src/index.js';

const entry = fileURLToPath(new URL('./echo-server.mjs', import.meta.url));

useAppHarness();

describe('fixture', () => {
  let shared: RunningApp;
  beforeAll(async () => {
    shared = await startApp({ name: 'shared-app', entry, telemetry: false });
  });

  it('leaks an app', async () => {
    await startApp({ name: 'leaky-app', entry, telemetry: false });
  });

  it('fails while an app runs', async () => {
    const app = await startApp({ name: 'failing-app', entry, telemetry: false });
    try {
      expect(app.address).toBe('the moon');
    } finally {
      await app.stop();
    }
  });

  it('passes', () => {
    expect(shared.running).toBe(true);
  });
  // shared-app is never stopped: the harness reports it after all tests.
});
