import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { FailedPreconditionError } from '@slipway/errors';

/** Format tag of a lock file. */
export const LOCK_FORMAT = 'slipway.batch.lock/v1';

/** Another live run holds the output's lock: nothing was written. */
export class OutputLockedError extends FailedPreconditionError {}

/** What a lock file says about its holder. */
export interface LockHolder {
  readonly format: typeof LOCK_FORMAT;
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: string;
  /** Random, so a holder removes only its own lock. */
  readonly token: string;
}

/** A held lock; `release()` removes it if it is still this holder's. Idempotent. */
export interface OutputLock {
  readonly file: string;
  release(): Promise<void>;
}

/** How often a lock taken over from a dead process may be lost to another taker before giving up. */
const TAKEOVER_ATTEMPTS = 5;

/**
 * Takes `<output>.lock`, so two runs never write one output. The lock file is created whole and
 * atomically (written under a temporary name, then hard-linked into place, which fails if a lock
 * exists) and names its holder's pid and host.
 *
 * A lock whose holder runs on this host but is no longer alive (a run that was SIGKILLed) is taken
 * over: renamed away, checked to be the dead holder's, then replaced. A lock held by another host
 * cannot be checked and is respected.
 *
 * @throws OutputLockedError (FAILED_PRECONDITION) naming the holder when another live run holds it.
 */
export async function acquireOutputLock(
  output: string,
  onNotice: (message: string) => void = () => undefined,
): Promise<OutputLock> {
  const file = `${output}.lock`;
  await mkdir(path.dirname(file), { recursive: true });
  const mine: LockHolder = {
    format: LOCK_FORMAT,
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
  };
  for (let attempt = 0; attempt < TAKEOVER_ATTEMPTS; attempt++) {
    if (await createExclusively(file, mine)) return heldLock(file, mine.token);
    const holder = await readHolder(file);
    if (holder === 'gone') continue;
    if (holder === 'unreadable') {
      throw new OutputLockedError(
        `output "${output}" is locked by ${file}, which is not a Slipway lock file; if no run writes "${output}", delete ${file}`,
      );
    }
    if (holder.hostname !== mine.hostname) {
      throw new OutputLockedError(
        `output "${output}" is being written by another run (pid ${holder.pid} on host ${holder.hostname}, since ${holder.startedAt}); that host's processes cannot be checked from here: wait for the run to end, or if it is gone, delete ${file}`,
      );
    }
    if (isAlive(holder.pid)) {
      throw new OutputLockedError(
        `output "${output}" is being written by another run (pid ${holder.pid}, since ${holder.startedAt}); wait for it to end or stop it (if pid ${holder.pid} is not a Slipway run, delete ${file})`,
      );
    }
    if (await removeStale(file, holder)) {
      onNotice(`took over ${file}: its holder, pid ${holder.pid}, is no longer running`);
    }
  }
  throw new OutputLockedError(
    `output "${output}": could not take over the stale lock ${file} (other runs keep taking it); try again`,
  );
}

/** Creates `file` with `holder` if no file is there; false when one is. */
async function createExclusively(file: string, holder: LockHolder): Promise<boolean> {
  const temporary = `${file}.${holder.token}.tmp`;
  await writeFile(temporary, `${JSON.stringify(holder)}\n`, { flag: 'wx' });
  try {
    await link(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

async function readHolder(file: string): Promise<LockHolder | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (value.format === LOCK_FORMAT && Number.isInteger(value.pid) && typeof value.hostname === 'string')
      return value as LockHolder;
  } catch {
    // Not JSON: not ours.
  }
  return 'unreadable';
}

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the dead holder's lock, and only it: the lock is renamed away (atomic), then checked.
 * If another process replaced it meanwhile, the renamed lock is that process's: it is linked
 * back into place (unless a third took the place) and nothing is removed.
 */
async function removeStale(file: string, stale: LockHolder): Promise<boolean> {
  const aside = `${file}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = await readHolder(aside);
  if (typeof moved === 'object' && moved.token !== stale.token) {
    await link(aside, file).catch(() => undefined);
    await rm(aside, { force: true });
    return false;
  }
  await rm(aside, { force: true });
  return true;
}

function heldLock(file: string, token: string): OutputLock {
  let released = false;
  return {
    file,
    async release() {
      if (released) return;
      released = true;
      const holder = await readHolder(file);
      if (typeof holder === 'object' && holder.token === token) await rm(file, { force: true });
    },
  };
}
