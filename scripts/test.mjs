#!/usr/bin/env node
// `npm test`: build and type-check everything (tests included), lint, check formatting, then run
// every test. Redis (and Prometheus for the end-to-end test) are started by the tests themselves
// (testkit/src/vitest-global-setup.ts), installed with apt-get when missing.
// Extra arguments go to vitest, e.g. `npm test -- node-agent`.
import { spawnSync } from 'node:child_process';

const extra = process.argv.slice(2);
const steps = [
  ['build + type-check', 'npx', ['tsc', '-b']],
  ['type-check tests', 'npx', ['tsc', '-p', 'tsconfig.tests.json']],
  ['lint', 'npx', ['eslint', '.', '--max-warnings', '0']],
  ['format', 'npx', ['prettier', '--check', '--log-level', 'warn', '.']],
  ['README sections match the workspace READMEs', 'node', ['scripts/readme.mjs', '--check']],
  ['tests', 'npx', ['vitest', 'run', ...extra]],
];

for (const [name, cmd, args] of steps) {
  const started = Date.now();
  console.log(`\n== ${name}: ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`\n== ${name} FAILED after ${seconds}s (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
  console.log(`== ${name} ok (${seconds}s)`);
}
