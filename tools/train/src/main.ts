#!/usr/bin/env node
// `slipway train …`: the CLI passes its arguments through to this file. See tools/train/README.md.
import { runTrainCli } from './cli.js';

process.exitCode = await runTrainCli(process.argv.slice(2));
