import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadMessage, LoadResult } from './protocol.js';

/** Hooks around the measuring window, e.g. to sample the server's CPU. */
export interface LoadHooks {
  readonly onPhase?: (phase: 'measuring' | 'measured') => void;
}

const generatorEntry = fileURLToPath(new URL('../load-generator.js', import.meta.url));
const live = new Set<ChildProcess>();

// An orchestrator that dies must not leave generators hammering a server.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Runs one job in a fresh load-generator process and returns what it measured. Rejects when the
 * generator fails, exits without a result, or outlives `warmupMs + windowMs + 90 s`.
 */
export function runLoad(job: LoadJob, hooks: LoadHooks = {}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // No inherited execArgv: a --cpu-prof of the orchestrator must not profile every generator.
    const child = fork(generatorEntry, [], {
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    live.add(child);
    let settled = false;
    const finish = (error: Error | undefined, result?: LoadResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        child.kill('SIGKILL');
        reject(error);
      } else resolve(result!);
    };
    const timer = setTimeout(
      () =>
        finish(new Error(`load generator did not finish within ${job.warmupMs + job.windowMs + 90_000} ms`)),
      job.warmupMs + job.windowMs + 90_000,
    );
    let result: LoadResult | undefined;
    child.on('message', (message: LoadMessage) => {
      if (message.type === 'phase') hooks.onPhase?.(message.phase);
      else if (message.type === 'error') finish(new Error(`load generator failed: ${message.message}`));
      else {
        result = message.result;
        // Resolved on exit, so a lingering generator never overlaps the next cell.
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }
    });
    child.once('error', (error) => finish(error));
    child.once('exit', (code, signal) => {
      live.delete(child);
      if (result) finish(undefined, result);
      else finish(new Error(`load generator exited (${signal ?? `code ${code}`}) without a result`));
    });
    child.send(job);
  });
}
