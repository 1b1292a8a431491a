/**
 * End to end: a small simulated cluster, the rdmasched extender and then the count-only baseline
 * on the same seed, judged on the report (the same report `npm start -- --json` writes).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { runCli } from '../src/main.js';
import { SILENT_PROGRESS } from '../src/progress.js';
import type { ModeReport, SimReport } from '../src/report/report.js';
import { simulate } from '../src/run/simulate.js';

const ARGS = [
  ...['--nodes', '12', '--jobs', '40', '--seed', '3', '--duration', '60', '--time-scale', '30'],
  ...['--burst', '24', '--vfs-per-pf', '4', '--pending-timeout', '40', '--baseline'],
];

let report: SimReport;
beforeAll(async () => {
  const parsed = parseConfig(ARGS, {});
  if (parsed.help) throw new Error('unexpected --help');
  report = (await simulate(parsed.config, { logger: pino({ level: 'silent' }), progress: SILENT_PROGRESS }))
    .report;
}, 120_000);

function placedOrExplained(m: ModeReport): void {
  expect(m.pods.created).toBeGreaterThan(0);
  expect(m.pods.placed + m.pods.unschedulable.count).toBe(m.pods.created);
  expect(m.pods.unschedulable.reasons.reduce((s, r) => s + r.pods, 0)).toBe(m.pods.unschedulable.count);
  for (const r of m.pods.unschedulable.reasons) {
    // Every pod the scheduler did not place carries the scheduler's (or the binder's) reason.
    expect(r.reason).not.toMatch(/never tried/);
    expect(r.example).toMatch(/^(0\/\d+ nodes are available|binding rejected: )/);
  }
}

describe('simulation end to end (12 nodes, 40 jobs, seed 3)', () => {
  it('places every pod or says why not', () => {
    placedOrExplained(report);
    expect(report.pods.placed).toBeGreaterThan(report.pods.created / 2);
    expect(report.pods.running).toBe(report.pods.placed);
  });

  it('gives an aligned placement whenever one existed (>= 99%)', () => {
    expect(report.alignment.eligible).toBeGreaterThan(10);
    expect(report.alignment.aligned / report.alignment.eligible).toBeGreaterThanOrEqual(0.99);
  });

  it('never gives a VF or a GPU twice and never exceeds a quota', () => {
    expect(report.vfs.doubleAllocated).toBe(0);
    expect(report.vfs.gpusDoubleAllocated).toBe(0);
    expect(report.quota.violations).toBe(0);
    expect(report.vfs.provisionedOnDemand).toBeGreaterThan(0);
  });

  it('measures the burst through the extender', () => {
    expect(report.throughput.bound).toBe(24);
    expect(report.throughput.podsPerSecond).toBeGreaterThan(0);
    expect(report.extender?.latencyMs.count).toBeGreaterThan(0);
    expect(report.extender?.latencyMs.p99).toBeGreaterThanOrEqual(report.extender?.latencyMs.p50 ?? Infinity);
  });

  it('beats the count-only baseline on alignment, on the same workload', () => {
    const b = report.baseline;
    expect(b).toBeDefined();
    if (b === undefined) return;
    placedOrExplained(b);
    expect(b.jobs.total).toBe(report.jobs.total);
    expect(b.vfs.doubleAllocated).toBe(0);
    expect(b.vfs.provisionedStatically).toBeGreaterThan(0);
    expect(b.alignment.share).not.toBeNull();
    expect(b.alignment.share ?? 1).toBeLessThan(report.alignment.share ?? 0);
    expect(report.comparison?.alignedShare.gainPoints).toBeGreaterThan(0);
  });
});

describe('the CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rdmasched-sim-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints the report, writes the JSON and exits 0', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    err.resume();
    const file = join(dir, 'report.json');
    const code = await runCli(
      [
        '--nodes',
        '4',
        '--jobs',
        '6',
        '--duration',
        '10',
        '--time-scale',
        '40',
        '--burst',
        '6',
        '--json',
        file,
        '--plain',
      ],
      {
        stdout: out,
        stderr: Object.assign(err, { isTTY: false }) as unknown as NodeJS.WriteStream,
        env: {},
        untilSignal: () => Promise.resolve(),
      },
    );
    expect(code).toBe(0);
    expect(text).toContain('rdmasched (extender):');
    const json = JSON.parse(await readFile(file, 'utf8')) as SimReport;
    expect(json.kind).toBe('SimReport');
    for (const path of [
      'pods.placed',
      'pods.unschedulable',
      'alignment.eligible',
      'alignment.aligned',
      'vfs.provisionedOnDemand',
      'vfs.doubleAllocated',
      'quota.violations',
      'throughput.podsPerSecond',
      'extender.latencyMs.p50',
      'extender.latencyMs.p99',
    ]) {
      const value = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], json);
      expect(value, path).not.toBeUndefined();
    }
  });

  it('refuses bad flags with exit code 2, naming them', async () => {
    const err = new PassThrough();
    let text = '';
    err.on('data', (c: Buffer) => (text += c.toString()));
    const code = await runCli(['--nodes', 'lots'], {
      stdout: new PassThrough(),
      stderr: err as unknown as NodeJS.WriteStream,
      env: {},
      untilSignal: () => Promise.resolve(),
    });
    expect(code).toBe(2);
    expect(text).toContain('--nodes: "lots" is not a whole number');
  });
});
