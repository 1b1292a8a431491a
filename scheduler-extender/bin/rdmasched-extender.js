#!/usr/bin/env node
// Thin launcher: the extender is TypeScript compiled to dist/ by `npm ci` (root `prepare`).
import { main } from '../dist/main.js';

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exit(code);
  },
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
