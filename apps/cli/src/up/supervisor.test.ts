import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTempDir } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { createSupervisor, formatLogLine } from './supervisor.js';

/** A child that logs `listening`, then crashes on its first run only (a marker file remembers). */
const CRASH_ONCE = `
import { existsSync, writeFileSync } from 'node:fs';
const marker = process.env.MARKER;
console.log(JSON.stringify({ level: 30, msg: 'listening', address: '127.0.0.1:1234' }));
if (!existsSync(marker)) {
  writeFileSync(marker, 'crashed');
  setTimeout(() => process.exit(3), 50);
} else {
  process.on('SIGTERM', () => { console.log(JSON.stringify({ level: 30, msg: 'bye' })); process.exit(0); });
  setInterval(() => {}, 1000);
}
`;

describe('supervisor', () => {
  it('restarts a crashed child with backoff and stops it cleanly', async () => {
    const dir = await createTempDir('supervisor-');
    const entry = path.join(dir.path, 'child.mjs');
    writeFileSync(entry, CRASH_ONCE);
    const marker = path.join(dir.path, 'marker');
    const lines: string[] = [];
    const supervisor = createSupervisor({ write: (line) => lines.push(line) });
    const child = await supervisor.start({ name: 'flaky', entry, env: { MARKER: marker } });
    expect(child.address).toBe('127.0.0.1:1234');
    // First run crashes; the supervisor restarts it and the second run stays up.
    await expect
      .poll(() => lines.some((l) => /flaky\s+\| exited \(code 3\); restarting in/.test(l)), {
        timeout: 5_000,
      })
      .toBe(true);
    await expect.poll(() => lines.filter((l) => l.includes('listening')).length, { timeout: 5_000 }).toBe(2);
    expect(existsSync(marker)).toBe(true);
    expect(child.restarts).toBe(1);
    await supervisor.stop();
    expect(lines.some((l) => /flaky\s+\| info\s+bye/.test(l))).toBe(true);
    // Stopping does not restart anything.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(lines.filter((l) => l.includes('listening')).length).toBe(2);
  });

  it('prints pino lines as level, message and fields', () => {
    expect(formatLogLine({ level: 40, msg: 'lease expired', worker: 'w1', time: 1, pid: 2 })).toBe(
      'warn  lease expired worker=w1',
    );
  });
});
