#!/usr/bin/env node
// Launcher: the compiled simulation (npm ci / npm start build it with tsc -b).
import { main } from '../dist/main.js';

await main();
