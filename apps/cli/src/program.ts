import { Command } from 'commander';
import { aliasCommands } from './commands/alias.js';
import { auditCommands } from './commands/audit.js';
import { batchCommands } from './commands/batch.js';
import { experimentCommands } from './commands/experiment.js';
import { modelCommands } from './commands/model.js';
import { monitorCommands } from './commands/monitor.js';
import { outcomeCommands } from './commands/outcome.js';
import { platformCommands } from './commands/platform.js';
import { predictCommand } from './commands/predict.js';
import { releaseCommands } from './commands/release.js';
import { rolloutCommands } from './commands/rollout.js';
import { shadowCommands } from './commands/shadow.js';
import { statusCommand } from './commands/status.js';
import { createRun } from './run.js';

/** The `slipway` command line. */
export function createProgram(): Command {
  const program = new Command('slipway')
    .description('Slipway: ship ONNX models to production and keep them trustworthy there')
    .option('--json', 'machine-readable output')
    .option('--registry <address>', 'registry address (default $SLIPWAY_REGISTRY_ADDR or 127.0.0.1:7001)')
    .option('--router <address>', 'router address (default $SLIPWAY_ROUTER_ADDR or 127.0.0.1:8001)')
    .option('--monitor <address>', 'monitor address (default $SLIPWAY_MONITOR_ADDR or 127.0.0.1:7003)')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  program.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
  const run = createRun(program);
  modelCommands(program, run);
  aliasCommands(program, run);
  auditCommands(program, run);
  releaseCommands(program, run);
  rolloutCommands(program, run);
  shadowCommands(program, run);
  experimentCommands(program, run);
  monitorCommands(program, run);
  outcomeCommands(program, run);
  statusCommand(program, run);
  predictCommand(program, run);
  batchCommands(program, run);
  platformCommands(program);
  return program;
}
