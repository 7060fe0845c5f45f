import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the numbers were measured. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly platform: string;
  readonly node: string;
  readonly onnxruntime: string;
  readonly grpcJs: string;
  /** 1-minute load average when the run started: a busy machine skews everything. */
  readonly loadAverage: number;
}

function packageVersion(repoRoot: string, name: string): string {
  try {
    const manifest = JSON.parse(
      readFileSync(path.join(repoRoot, 'node_modules', name, 'package.json'), 'utf8'),
    ) as { version?: string };
    return manifest.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Describes this machine and the runtimes measured. */
export function describeMachine(repoRoot: string): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    onnxruntime: packageVersion(repoRoot, 'onnxruntime-node'),
    grpcJs: packageVersion(repoRoot, '@grpc/grpc-js'),
    loadAverage: os.loadavg()[0] ?? 0,
  };
}

/** One line: `AMD EPYC, 2 cores, 24 GiB, linux 6.1 x64, node v20.20.2, ...`. */
export function formatMachine(machine: MachineInfo): string {
  return (
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, ` +
    `node ${machine.node}, onnxruntime-node ${machine.onnxruntime}, @grpc/grpc-js ${machine.grpcJs}, ` +
    `load average ${machine.loadAverage.toFixed(2)} at start`
  );
}
