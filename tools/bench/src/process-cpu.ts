import { readFileSync } from 'node:fs';

/** Linux reports CPU times in clock ticks; USER_HZ is 100 on every mainstream build. */
const ticksPerSecond = 100;

function ticksToMs(ticks: number): number {
  return (ticks * 1000) / ticksPerSecond;
}

/**
 * CPU time (user + system, all threads) a process has used so far, in ms, from `/proc/<pid>/stat`;
 * undefined where there is no procfs or the process is gone.
 */
export function processCpuMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ticksToMs(utime + stime);
}

/** Busy CPU time of the whole machine (all cores, everything but idle and iowait) so far, in ms. */
export function machineBusyCpuMs(): number | undefined {
  let stat: string;
  try {
    stat = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  const [user, nice, system, , , irq, softirq, steal] = stat
    .slice(0, stat.indexOf('\n'))
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = [user, nice, system, irq, softirq, steal].reduce<number>((sum, v) => sum + (v ?? 0), 0);
  return Number.isFinite(busy) ? ticksToMs(busy) : undefined;
}

/** A process to sample, by the name it is reported under. */
export interface ProcessRef {
  readonly name: string;
  readonly pid: number;
}

/** CPU used during a window, in % of one core (200 = two cores busy). */
export interface CpuWindow {
  /** The sampled processes together; undefined without processes or procfs. */
  readonly serverPercent?: number;
  /** Each sampled process, by name (those whose CPU could be read). */
  readonly processes?: Readonly<Record<string, number>>;
  /** Every process on the machine. */
  readonly machinePercent?: number;
}

/**
 * Samples processes' and the machine's CPU over a window: `start()`, then `stop()`. The processes
 * are the system under test: one server, or several (a router and the services behind it).
 */
export function createCpuSampler(processes: readonly ProcessRef[]): { start(): void; stop(): CpuWindow } {
  let start: { time: number; processes: Map<string, number>; machine?: number } | undefined;
  let result: CpuWindow = {};
  const percent = (from: number | undefined, to: number | undefined, elapsed: number) =>
    from !== undefined && to !== undefined && elapsed > 0 ? ((to - from) / elapsed) * 100 : undefined;
  const readAll = (): Map<string, number> => {
    const times = new Map<string, number>();
    for (const { name, pid } of processes) {
      const ms = processCpuMs(pid);
      if (ms !== undefined) times.set(name, ms);
    }
    return times;
  };
  return {
    start() {
      const machine = machineBusyCpuMs();
      start = {
        time: performance.now(),
        processes: readAll(),
        ...(machine !== undefined ? { machine } : {}),
      };
    },
    stop() {
      if (!start) return result;
      const elapsed = performance.now() - start.time;
      const now = readAll();
      const byName: Record<string, number> = {};
      for (const [name, from] of start.processes) {
        const value = percent(from, now.get(name), elapsed);
        if (value !== undefined) byName[name] = value;
      }
      const values = Object.values(byName);
      const serverPercent = values.length > 0 ? values.reduce((a, b) => a + b, 0) : undefined;
      const machinePercent = percent(start.machine, machineBusyCpuMs(), elapsed);
      result = {
        ...(serverPercent !== undefined ? { serverPercent } : {}),
        ...(values.length > 0 ? { processes: byName } : {}),
        ...(machinePercent !== undefined ? { machinePercent } : {}),
      };
      start = undefined;
      return result;
    },
  };
}
