import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { FailedPreconditionError } from '@slipway/errors';
import { createTempDir } from '@slipway/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { acquireOutputLock, LOCK_FORMAT, OutputLockedError } from './output-lock.js';

let dir: string;
let output: string;
beforeEach(async () => {
  dir = (await createTempDir('batch-lock-')).path;
  output = path.join(dir, 'out', 'scores.csv');
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

const lockText = (holder: Record<string, unknown>): string =>
  `${JSON.stringify({ format: LOCK_FORMAT, startedAt: '2026-11-27T02:00:00.000Z', token: 'abc', ...holder })}\n`;

describe('acquireOutputLock', () => {
  it('creates <output>.lock naming this process, and removes it on release', async () => {
    const lock = await acquireOutputLock(output);
    expect(lock.file).toBe(`${output}.lock`);
    expect(JSON.parse(await readFile(lock.file, 'utf8'))).toMatchObject({
      format: LOCK_FORMAT,
      pid: process.pid,
    });
    await lock.release();
    await lock.release();
    expect(await readdir(path.dirname(output))).toEqual([]);
  });

  it('refuses while a live process holds the lock, naming its pid', async () => {
    const held = await acquireOutputLock(output);
    const refused = await acquireOutputLock(output).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OutputLockedError);
    expect(refused).toBeInstanceOf(FailedPreconditionError);
    expect((refused as Error).message).toMatch(
      new RegExp(`^output ".*scores\\.csv" is being written by another run \\(pid ${process.pid}, since `),
    );
    await held.release();
    const again = await acquireOutputLock(output);
    await again.release();
  });

  it('takes over a lock left by a process that is gone', async () => {
    const pid = await deadPid();
    await acquireOutputLock(output).then((l) => l.release());
    await writeFile(`${output}.lock`, lockText({ pid, hostname: hostname() }));
    const notices: string[] = [];
    const lock = await acquireOutputLock(output, (m) => notices.push(m));
    expect(notices).toEqual([`took over ${output}.lock: its holder, pid ${pid}, is no longer running`]);
    expect(JSON.parse(await readFile(lock.file, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(await readdir(path.dirname(output))).toEqual([]);
  });

  it('respects a lock of another host, and refuses a file that is not a lock', async () => {
    await acquireOutputLock(output).then((l) => l.release());
    await writeFile(`${output}.lock`, lockText({ pid: 1234, hostname: 'elsewhere' }));
    await expect(acquireOutputLock(output)).rejects.toThrow(
      /is being written by another run \(pid 1234 on host elsewhere, since 2026-11-27T02:00:00.000Z\); that host's processes cannot be checked from here/,
    );
    await writeFile(`${output}.lock`, 'not json');
    await expect(acquireOutputLock(output)).rejects.toThrow(/which is not a Slipway lock file/);
  });

  it('release leaves a lock that is no longer its own', async () => {
    const lock = await acquireOutputLock(output);
    await writeFile(lock.file, lockText({ pid: process.pid, hostname: 'x', token: 'someone-else' }));
    await lock.release();
    expect(JSON.parse(await readFile(lock.file, 'utf8'))).toMatchObject({ token: 'someone-else' });
  });

  it('of many concurrent takers, exactly one gets the lock', async () => {
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => acquireOutputLock(output)));
    const held = results.filter((r) => r.status === 'fulfilled');
    expect(held).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(OutputLockedError);
    await (held[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireOutputLock>>>).value.release();
  });

  it('of many concurrent takers of a stale lock, exactly one gets it', async () => {
    await acquireOutputLock(output).then((l) => l.release());
    await writeFile(`${output}.lock`, lockText({ pid: await deadPid(), hostname: hostname() }));
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => acquireOutputLock(output)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });
});
