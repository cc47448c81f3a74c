#!/usr/bin/env node
// bin/execscope.js
// Entry point: runs the compiled CLI (npm run build produces dist/).
import { main } from '../dist/receiver/src/cli/main.js';

process.exitCode = await main(process.argv);
