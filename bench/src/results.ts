/**
 * The benchmark results file. Every benchmark returns figures; `writeResults` merges them into
 * `bench/results.json` (replacing the figures of the benchmarks that ran, keeping the others) and
 * regenerates the readable `bench/RESULTS.md`. Speed is recorded as ratios against a baseline
 * measured in the same run, never asserted in unit tests.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { dirname } from 'node:path';

export interface Figure {
  /** Dotted name, first component = benchmark, e.g. `extender.ratio_to_floor.5000_nodes`. */
  readonly name: string;
  readonly value: number;
  /** `ms`, `pods/s`, `ratio`, `%`, `bytes`, `Gb/s`, ... */
  readonly unit: string;
  readonly better: 'lower' | 'higher';
  /** The target from DESIGN.md or the issue, when there is one. */
  readonly target?: number;
}

export interface BenchmarkRun {
  readonly benchmark: string;
  readonly figures: readonly Figure[];
  /** Free-form lines for RESULTS.md: method, parameters, caveats. */
  readonly notes: readonly string[];
  readonly durationMs: number;
}

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
}

export interface ResultsFile {
  readonly figures: Figure[];
  readonly runs: Record<
    string,
    { date: string; machine: MachineInfo; notes: readonly string[]; durationMs: number }
  >;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cpus: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.version,
  };
}

async function readResults(path: string): Promise<ResultsFile> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<ResultsFile>;
    return { figures: parsed.figures ?? [], runs: parsed.runs ?? {} };
  } catch {
    return { figures: [], runs: {} };
  }
}

/** Merges `runs` into the results file at `jsonPath` and rewrites `markdownPath`. */
export async function writeResults(
  runs: readonly BenchmarkRun[],
  paths: { jsonPath: string; markdownPath: string },
  now: Date = new Date(),
): Promise<ResultsFile> {
  const current = await readResults(paths.jsonPath);
  const replaced = new Set(runs.map((r) => r.benchmark));
  const figures = current.figures.filter((f) => !replaced.has(f.name.split('.')[0] ?? ''));
  const machine = machineInfo();
  const next: ResultsFile = { figures, runs: { ...current.runs } };
  for (const run of runs) {
    for (const f of run.figures) {
      if (!f.name.startsWith(`${run.benchmark}.`))
        throw new Error(`figure ${f.name} must start with its benchmark name "${run.benchmark}."`);
      if (!Number.isFinite(f.value)) throw new Error(`figure ${f.name} is not a finite number: ${f.value}`);
      figures.push(f);
    }
    next.runs[run.benchmark] = {
      date: now.toISOString(),
      machine,
      notes: run.notes,
      durationMs: run.durationMs,
    };
  }
  figures.sort((a, b) => a.name.localeCompare(b.name));
  await atomicWrite(paths.jsonPath, `${JSON.stringify(next, null, 2)}\n`);
  await atomicWrite(paths.markdownPath, renderMarkdown(next));
  return next;
}

async function atomicWrite(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

function verdict(f: Figure): string {
  if (f.target === undefined) return '';
  const ok = f.better === 'lower' ? f.value <= f.target : f.value >= f.target;
  return ok ? 'meets' : 'MISSES';
}

export function renderMarkdown(results: ResultsFile): string {
  const lines = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/src/results.ts); do not edit by hand. Ratios compare against a',
    'baseline measured in the same run on the same machine.',
    '',
  ];
  for (const [name, run] of Object.entries(results.runs).sort(([a], [b]) => a.localeCompare(b))) {
    const m = run.machine;
    lines.push(`## ${name}`, '');
    lines.push(
      `Run ${run.date} in ${(run.durationMs / 1000).toFixed(1)} s on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}.`,
      '',
    );
    for (const n of run.notes) lines.push(`- ${n}`);
    if (run.notes.length > 0) lines.push('');
    lines.push('| figure | value | unit | better | target | |', '|---|---:|---|---|---:|---|');
    for (const f of results.figures.filter((x) => x.name.startsWith(`${name}.`))) {
      lines.push(
        `| ${f.name} | ${fmt(f.value)} | ${f.unit} | ${f.better} | ${f.target === undefined ? '' : fmt(f.target)} | ${verdict(f)} |`,
      );
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
