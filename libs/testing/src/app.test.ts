import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, test as base } from 'vitest';
import { runningApps, startApp, useAppHarness } from './app.js';
import { repoRoot } from './build.js';
import { freePort } from './free-port.js';
import { createHealthClient } from './health-client.js';
import { createTempDir, tempDirFixture } from './temp-dir.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../test-fixtures/${name}`, import.meta.url));
// The harness's own behaviour does not need telemetry (nor a build of libs/telemetry).
const echoServer = { name: 'echo-server', entry: fixture('echo-server.mjs'), telemetry: false } as const;

useAppHarness();

describe('startApp', () => {
  it('returns once the app logged its address and answers SERVING; stop() ends it with SIGTERM', async () => {
    const app = await startApp(echoServer);
    expect(app.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(app.running).toBe(true);
    expect(runningApps()).toContain(app);
    const health = createHealthClient(app.address);
    expect(await health.check()).toBe('SERVING');
    health.close();

    expect(await app.stop()).toEqual({ code: 0, signal: null, timedOut: false });
    expect(app.running).toBe(false);
    expect(runningApps()).not.toContain(app);
    expect(app.logs().some((line) => line.includes('"msg":"stopped"'))).toBe(true);
  });

  it('fails with the exit status and the app logs when the app dies during start', async () => {
    await expect(
      startApp({ name: 'crasher', entry: fixture('crash.mjs'), telemetry: false }),
    ).rejects.toThrow(
      /app "crasher" did not become ready: .*exited with code 3[\s\S]*SLIPWAY_FIXTURE_DB is required/,
    );
  });

  it('passes env (minus inherited OTEL_* variables) and args to the app', async () => {
    const tmp = await createTempDir('harness-env-');
    const script = path.join(tmp.path, 'print-env.mjs');
    await writeFile(
      script,
      `console.log(JSON.stringify({ msg: 'env', a: process.env.FIXTURE_A ?? null, otel: process.env.OTEL_SERVICE_NAME ?? null, args: process.argv.slice(2) }));`,
    );
    process.env['OTEL_SERVICE_NAME'] = 'from-the-developer-shell';
    try {
      const app = await startApp({
        name: 'print-env',
        entry: script,
        telemetry: false,
        waitUntil: 'spawned',
        env: { FIXTURE_A: 'x' },
        args: ['--flag', 'value'],
      });
      const line = await app.waitForLog((l) => l.json?.['msg'] === 'env');
      expect(line.json).toMatchObject({ a: 'x', otel: null, args: ['--flag', 'value'] });
      expect(await app.waitForExit()).toEqual({ code: 0, signal: null });
    } finally {
      delete process.env['OTEL_SERVICE_NAME'];
    }
  });
});

describe('RunningApp', () => {
  it('restart() brings the app back on the same address with a new process', async () => {
    const app = await startApp({ ...echoServer, addressEnv: 'FIXTURE_ADDR' });
    const { address, pid } = app;
    await app.restart();
    expect(app.address).toBe(address);
    expect(app.pid).not.toBe(pid);
    const health = createHealthClient(app.address);
    expect(await health.check()).toBe('SERVING');
    health.close();
    expect(app.logs().filter((line) => line.includes('"msg":"listening"'))).toHaveLength(2);
    await app.stop();
  });

  it('restart() also works with an address fixed up front with freePort()', async () => {
    const port = await freePort();
    const app = await startApp({ ...echoServer, env: { FIXTURE_ADDR: `127.0.0.1:${port}` } });
    expect(app.address).toBe(`127.0.0.1:${port}`);
    await app.kill();
    await app.restart();
    expect(app.address).toBe(`127.0.0.1:${port}`);
    await app.stop();
  });

  it('kill() ends the process with SIGKILL, as a crash would', async () => {
    const app = await startApp(echoServer);
    expect(await app.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(app.running).toBe(false);
  });

  it('stop() falls back to SIGKILL, and says so, when the app ignores SIGTERM', async () => {
    const app = await startApp({ ...echoServer, env: { FIXTURE_IGNORE_SIGTERM: '1' } });
    expect(await app.stop('SIGTERM', 300)).toEqual({ code: null, signal: 'SIGKILL', timedOut: true });
    expect(app.logs()).toContain(app.logs().find((line) => line.includes('ignoring SIGTERM')));
  });

  it('waitForLog() resolves with parsed JSON, and rejects at once if the app exits first', async () => {
    const app = await startApp(echoServer);
    const listening = await app.waitForLog((line) => line.json?.['msg'] === 'listening');
    expect(listening).toMatchObject({ stream: 'stdout', json: { address: app.address } });
    await expect(app.waitForLog((line) => line.text === 'never', 100)).rejects.toThrow(
      /no matching log line within 100 ms/,
    );
    await app.stop();
    await expect(app.waitForLog((line) => line.text === 'never')).rejects.toThrow(
      /exited with code 0 before/,
    );
  });
});

describe('createTempDir', () => {
  let removedAfterTest = '';
  it('creates a directory that is removed when the test finishes', async () => {
    const dir = await createTempDir('harness-tmp-');
    expect(existsSync(dir.path)).toBe(true);
    removedAfterTest = dir.path;
  });
  it('(previous test cleaned up)', () => {
    expect(removedAfterTest).not.toBe('');
    expect(existsSync(removedAfterTest)).toBe(false);
  });

  const test = base.extend<{ tmp: string }>({ tmp: tempDirFixture('harness-fixture-') });
  let fixtureDir = '';
  test('as a fixture', ({ tmp }) => {
    expect(existsSync(tmp)).toBe(true);
    fixtureDir = tmp;
  });
  it('(fixture cleaned up)', () => {
    expect(fixtureDir).not.toBe('');
    expect(existsSync(fixtureDir)).toBe(false);
  });
});

describe('freePort', () => {
  it('returns a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) =>
      server.once('error', reject).listen(port, '127.0.0.1', resolve),
    );
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('useAppHarness, seen from a failing test run', () => {
  it('prints the logs of the apps of a failed test, and fails and reports tests that leak apps', async () => {
    const { stdout, stderr, code } = await new Promise<{
      stdout: string;
      stderr: string;
      code: number | null;
    }>((resolve) => {
      const cli = path.join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
      const config = fileURLToPath(new URL('../test-fixtures/harness.vitest-config.mjs', import.meta.url));
      execFile(
        process.execPath,
        [cli, 'run', '--root', repoRoot, '--config', config, '--color=false'],
        { cwd: repoRoot, env: { ...process.env, CI: '1' } },
        (error, stdout, stderr) => resolve({ stdout, stderr, code: error ? Number(error.code ?? 1) : 0 }),
      );
    });
    const output = (stdout + stderr).replace(/\x1b\[[0-9;]*m/g, '');
    expect(code, output).not.toBe(0);
    expect(output).toMatch(/apps still running, killed by the harness: "leaky-app" \(pid \d+\)/);
    expect(output).toMatch(/apps still running, killed by the harness: "shared-app" \(pid \d+\)/);
    // The apps of a failed test (its own and the suite's), each with its last log lines.
    expect(output).toMatch(
      /──── failing-app \(pid \d+, exited with code 0\): last \d+ of \d+ log lines ────\n.*"msg":"listening"/,
    );
    expect(output).toMatch(/──── shared-app \(pid \d+, running\)/);
    expect(output).toMatch(/Tests\s+2 failed \| 1 passed/);
    expect(output).toMatch(/Failed Suites 1/);
  }, 60_000);
});
