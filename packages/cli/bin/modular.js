#!/usr/bin/env node
// The `modular` command. Runs the compiled CLI (`npm run build` first in a checkout).
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv);
