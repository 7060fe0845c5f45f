import { afterEach, describe, expect, it } from 'vitest';
import { installSignalHandlers } from './signals.js';
import { captureLogger } from './test-support/capture-logger.js';

describe('installSignalHandlers', () => {
  let uninstall: (() => void) | undefined;
  afterEach(() => uninstall?.());

  it('shuts down on the first SIGTERM and exits 0; a second signal exits 1 at once', async () => {
    const exits: number[] = [];
    let finishShutdown!: () => void;
    const reasons: string[] = [];
    const shutdown = (reason: string): Promise<void> => {
      reasons.push(reason);
      return new Promise((resolve) => (finishShutdown = resolve));
    };
    uninstall = installSignalHandlers(shutdown, captureLogger().logger, {
      exit: (code) => void exits.push(code),
    });
    process.emit('SIGTERM', 'SIGTERM');
    expect(reasons).toEqual(['SIGTERM']);
    process.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([1]);
    finishShutdown();
    await new Promise((resolve) => setImmediate(resolve));
    expect(exits).toEqual([1, 0]);
  });

  it('accepts a server and exits 1 when its shutdown fails', async () => {
    const exits: number[] = [];
    const server = { shutdown: () => Promise.reject(new Error('stuck')) };
    uninstall = installSignalHandlers(server, captureLogger().logger, {
      exit: (code) => void exits.push(code),
    });
    process.emit('SIGINT', 'SIGINT');
    await new Promise((resolve) => setImmediate(resolve));
    expect(exits).toEqual([1]);
  });

  it('shuts down once when its parent is no longer the supervisor, and not while it is', async () => {
    const exits: number[] = [];
    const reasons: string[] = [];
    const shutdown = (reason: string): Promise<void> => {
      reasons.push(reason);
      return Promise.resolve();
    };
    const { logger } = captureLogger();
    uninstall = installSignalHandlers(shutdown, logger, {
      exit: (code) => void exits.push(code),
      supervisorPid: process.ppid,
      supervisorCheckMs: 10,
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(reasons).toEqual([]);
    uninstall();
    uninstall = installSignalHandlers(shutdown, logger, {
      exit: (code) => void exits.push(code),
      supervisorPid: process.ppid + 100_000,
      supervisorCheckMs: 10,
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(reasons).toEqual(['supervisor gone']);
    expect(exits).toEqual([0]);
  });
});
