import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeResults, type ResultsFile } from './results.js';

describe('writeResults', () => {
  it('replaces the figures of the benchmarks that ran and keeps the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-results-'));
    const paths = { jsonPath: join(dir, 'results.json'), markdownPath: join(dir, 'RESULTS.md') };
    await writeResults(
      [
        {
          benchmark: 'a',
          figures: [{ name: 'a.x', value: 1, unit: 'ms', better: 'lower' }],
          notes: [],
          durationMs: 1,
        },
        {
          benchmark: 'b',
          figures: [{ name: 'b.y', value: 2, unit: 'ratio', better: 'lower', target: 1.5 }],
          notes: ['n'],
          durationMs: 1,
        },
      ],
      paths,
    );
    await writeResults(
      [
        {
          benchmark: 'a',
          figures: [{ name: 'a.z', value: 3, unit: 'ms', better: 'lower' }],
          notes: [],
          durationMs: 1,
        },
      ],
      paths,
    );
    const json = JSON.parse(await readFile(paths.jsonPath, 'utf8')) as ResultsFile;
    expect(json.figures.map((f) => f.name)).toEqual(['a.z', 'b.y']);
    const md = await readFile(paths.markdownPath, 'utf8');
    expect(md).toContain('| b.y | 2 | ratio | lower | 1.50 | MISSES |');
    expect(md).toContain('| a.z | 3 | ms | lower |  |  |');
  });

  it('refuses a figure named outside its benchmark', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-results-'));
    await expect(
      writeResults(
        [
          {
            benchmark: 'a',
            figures: [{ name: 'b.x', value: 1, unit: 'ms', better: 'lower' }],
            notes: [],
            durationMs: 1,
          },
        ],
        { jsonPath: join(dir, 'r.json'), markdownPath: join(dir, 'r.md') },
      ),
    ).rejects.toThrow(/must start with its benchmark name/);
  });
});
