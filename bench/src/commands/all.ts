import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { BENCHMARKS } from '../benchmarks/index.js';
import { writeResults, type BenchmarkRun } from '../results.js';

const benchDir = fileURLToPath(new URL('../../', import.meta.url));

/** `rdmasched-bench all [--only NAME]... [--quick]`: what `npm run bench` runs. */
export const allCommand: Command = {
  name: 'all',
  summary: 'run every benchmark (or --only NAME) and write bench/results.json and bench/RESULTS.md',
  async run(argv) {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        only: { type: 'string', multiple: true },
        quick: { type: 'boolean', default: false },
        out: { type: 'string' },
      },
    });
    const names = BENCHMARKS.map((b) => b.name);
    const only = values.only ?? [];
    const unknown = only.filter((n) => !names.includes(n));
    if (unknown.length > 0) {
      console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${names.join(', ')}`);
      return 2;
    }
    const selected = BENCHMARKS.filter((b) => only.length === 0 || only.includes(b.name));
    const runs: BenchmarkRun[] = [];
    for (const [i, b] of selected.entries()) {
      console.error(`[${i + 1}/${selected.length}] ${b.name}: ${b.description}`);
      const started = performance.now();
      const { figures, notes } = await b.run({
        log: (line) => console.error(`  ${b.name}: ${line}`),
        quick: values.quick,
      });
      runs.push({ benchmark: b.name, figures, notes, durationMs: performance.now() - started });
      for (const f of figures) console.log(`${f.name} = ${f.value} ${f.unit}`);
    }
    const dir = values.out ?? benchDir;
    await writeResults(runs, { jsonPath: `${dir}/results.json`, markdownPath: `${dir}/RESULTS.md` });
    console.error(`wrote ${dir}/results.json and ${dir}/RESULTS.md`);
    return 0;
  },
};
