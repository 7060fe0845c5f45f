import { registry } from '@slipway/contracts';
import { formatVersion, sameVersion } from '@slipway/release';
import type { Command } from 'commander';
import { describeCanaryPolicy, describeStrategy, variantRows } from '../deployment-format.js';
import { formatTime, printFields, printJson, printTable } from '../output.js';
import { routersOf } from '../router-wait.js';
import type { Run } from '../run.js';

const { LoadState } = registry;

/** One worker replica of a variant's version. */
export interface ReplicaStatus {
  variant: string;
  model: string;
  version: number;
  workerId: string;
  address: string;
  /** READY, LOADING, FAILED or UNSPECIFIED. */
  state: string;
  error: string;
}

/** `slipway status <deployment>`. */
export function statusCommand(program: Command, run: Run): void {
  program
    .command('status <deployment>')
    .description('a deployment: strategy, variants, the replicas serving them, and the routers')
    .action(
      run(async (ctx, cmd) => {
        const name = String(cmd.args[0]);
        const [{ deployment }, { endpoints }] = await Promise.all([
          ctx.deployments().getDeployment({ name }),
          ctx.endpoints().listEndpoints({}),
        ]);
        const d = deployment!;
        const routers = routersOf(endpoints).map((r) => ({
          ...r,
          current: r.appliedRevision !== undefined && r.appliedRevision >= d.revision,
        }));
        const replicas = replicasOf(d, endpoints);
        if (ctx.json) return printJson({ deployment: d, replicas, routers });

        const canary = d.strategy?.canary;
        const experiment = d.strategy?.experiment;
        printFields([
          ['deployment', d.name],
          ['strategy', describeStrategy(d)],
          ['revision', String(d.revision)],
          ['updated', `${formatTime(d.updatedAt)} by ${d.updatedBy}`],
          ['description', d.description],
          ['canary', canary ? describeCanaryPolicy(canary) : undefined],
          [
            'experiment',
            experiment
              ? `${experiment.name} (unit ${experiment.unitKey}, salt ${experiment.salt})`
              : undefined,
          ],
        ]);
        process.stdout.write('\n');
        printTable(['variant', 'role', 'version', 'weight', 'sample'], variantRows(d));
        process.stdout.write('\n');
        printTable(
          ['variant', 'version', 'worker', 'address', 'state'],
          replicas.map((r) => [
            r.variant,
            formatVersion(r),
            r.workerId || '-',
            r.address || '-',
            r.error ? `${r.state}: ${r.error}` : r.state,
          ]),
        );
        process.stdout.write('\n');
        if (routers.length === 0) {
          process.stdout.write('routers: none registered\n');
        } else {
          printTable(
            ['router', 'address', 'applied revision', ''],
            routers.map((r) => [
              r.id,
              r.address,
              r.appliedRevision === undefined ? '-' : String(r.appliedRevision),
              r.current ? 'current' : 'behind',
            ]),
          );
        }
      }),
    );
}

const STATE_NAMES: Record<number, string> = {
  [LoadState.LOAD_STATE_LOADING]: 'LOADING',
  [LoadState.LOAD_STATE_READY]: 'READY',
  [LoadState.LOAD_STATE_FAILED]: 'FAILED',
};

/**
 * Per variant, the workers (not routers) that hold its version, with their load state; a
 * variant no worker holds gets one row with state NONE.
 */
export function replicasOf(
  deployment: registry.Deployment,
  endpoints: readonly registry.WorkerEndpoint[],
): ReplicaStatus[] {
  const workers = endpoints.filter((e) => e.labels['role'] !== 'router');
  return deployment.variants.flatMap((v) => {
    const rows = workers.flatMap((w) =>
      w.versions
        .filter((loaded) => sameVersion(loaded, v))
        .map((loaded) => ({
          variant: v.name,
          model: v.model,
          version: v.version,
          workerId: w.workerId,
          address: w.address,
          state: STATE_NAMES[loaded.state] ?? 'UNSPECIFIED',
          error: loaded.error,
        })),
    );
    return rows.length > 0
      ? rows
      : [
          {
            variant: v.name,
            model: v.model,
            version: v.version,
            workerId: '',
            address: '',
            state: 'NONE',
            error: '',
          },
        ];
  });
}
