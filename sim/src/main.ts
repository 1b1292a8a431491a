/**
 * `npm start` / `rdmasched-sim`: parses the flags, runs the simulation with progress on stderr,
 * prints the report on stdout, writes `--json`, and with `--hold` keeps the extender and the
 * metrics endpoints serving until SIGINT/SIGTERM.
 *
 * Exit codes: 0 done; 1 the simulation failed; 2 invalid flags or trace; 3 an invariant was broken
 * (a VF or GPU given twice, a quota exceeded) — the report is still printed and written.
 */
import { writeFile } from 'node:fs/promises';
import { destination, pino } from 'pino';
import { parseConfig, USAGE } from './config.js';
import { SIM_ERROR_CODES, SimError } from './errors.js';
import { createProgress } from './progress.js';
import { formatReport, type SimReport } from './report/report.js';
import { simulate } from './run/simulate.js';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
  /** Resolves when the user asks to stop (--hold). */
  readonly untilSignal: () => Promise<void>;
}

/** Invariants the run must keep; each broken one is a sentence. */
export function brokenInvariants(r: SimReport): string[] {
  const out: string[] = [];
  for (const [name, m] of [['rdmasched', r] as const, ['baseline', r.baseline] as const]) {
    if (m === undefined) continue;
    if (m.vfs.doubleAllocated > 0)
      out.push(`${name}: ${m.vfs.doubleAllocated} VF allocations were given twice`);
    if (m.vfs.gpusDoubleAllocated > 0)
      out.push(`${name}: ${m.vfs.gpusDoubleAllocated} GPU allocations were given twice`);
    if (name === 'rdmasched' && m.quota.violations > 0)
      out.push(`${name}: tenant quota exceeded ${m.quota.violations} times`);
  }
  return out;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseConfig(argv, io.env);
  } catch (err: unknown) {
    io.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const config = parsed.config;
  const logger = pino({ level: config.logLevel }, destination(2));
  const progress = createProgress(io.stderr, config.plainProgress);
  try {
    const sim = await simulate(config, { logger, progress, keepRunning: config.hold });
    const report = sim.report;
    io.stdout.write(`\n${formatReport(report)}\n`);
    if (config.jsonFile !== undefined) {
      await writeFile(config.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
      io.stderr.write(`report written to ${config.jsonFile}\n`);
    }
    const broken = brokenInvariants(report);
    for (const b of broken) io.stderr.write(`INVARIANT BROKEN: ${b}\n`);
    if (sim.cluster !== undefined) {
      io.stdout.write(`extender: ${report.endpoints.extender}\n`);
      io.stdout.write(`agent metrics: ${report.endpoints.agentMetrics}\n`);
      io.stdout.write(`kubernetes API: ${report.endpoints.api}\n`);
      io.stdout.write('holding: the cluster keeps serving until Ctrl-C\n');
      await io.untilSignal();
      await sim.cluster.stop();
    }
    return broken.length > 0 ? 3 : 0;
  } catch (err: unknown) {
    progress.end();
    if (err instanceof SimError && err.code === SIM_ERROR_CODES.INVALID_TRACE) {
      io.stderr.write(`${err.message}\n`);
      return 2;
    }
    io.stderr.write(
      `simulation failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}

/** The process entry (bin/rdmasched-sim.js). */
export async function main(): Promise<void> {
  const untilSignal = () =>
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  const code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    untilSignal,
  });
  process.exitCode = code;
  // Agents' timers, keep-alive sockets: nothing left to wait for once the report is out.
  setTimeout(() => process.exit(code), 200).unref();
}
