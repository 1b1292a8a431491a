/**
 * The simulation's settings: parsed once from the command line (and `REDIS_URL`), validated,
 * frozen. One ConfigError lists every bad flag. Defaults are chosen so that `npm start` finishes
 * well under a minute on a 2-core machine.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from './errors.js';

export type SchedulerThread = 'worker' | 'inline';

export interface SimConfig {
  readonly nodes: number;
  readonly jobs: number;
  readonly seed: number;
  /** Simulated seconds over which the jobs arrive (Poisson arrivals, mean gap = duration / jobs). */
  readonly durationSeconds: number;
  /** Simulated seconds per wall-clock second. */
  readonly timeScale: number;
  /** Also run the count-only baseline on the same cluster spec and workload. */
  readonly baseline: boolean;
  readonly jsonFile: string | undefined;
  /** Keep serving (extender, metrics) after the report until Ctrl-C. */
  readonly hold: boolean;
  /** Read the workload from this JSON Lines file instead of generating it. */
  readonly traceFile: string | undefined;
  /** Write the workload that was run to this JSON Lines file. */
  readonly writeTraceFile: string | undefined;
  /** Pods in the throughput burst (scheduler_perf style); 0 skips it. */
  readonly burstPods: number;
  /** Preset name -> relative weight of the node mix. */
  readonly presets: ReadonlyMap<string, number>;
  /** Most VFs per PF (the agents' maxVfsPerPf; the baseline's static VFs per PF). */
  readonly vfsPerPf: number;
  /** Simulated seconds a job may wait for all its pods before it is cancelled. */
  readonly pendingTimeoutSeconds: number;
  readonly percentageOfNodesToScore: number;
  readonly schedulerThread: SchedulerThread;
  /** Where the extender runs: `worker` (its own thread; needs REDIS_URL) or `inline`. */
  readonly extenderThread: SchedulerThread;
  /** Wall-clock limit of the workload phase, in seconds (a safety net; 0 = none). */
  readonly maxWallSeconds: number;
  readonly redisUrl: string | undefined;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Plain progress lines instead of a bar (default: when stderr is not a terminal). */
  readonly plainProgress: boolean | undefined;
}

export const DEFAULT_PRESETS: ReadonlyMap<string, number> = new Map([
  ['dgx-h100', 4],
  ['reference-host', 3],
  ['roce-single', 2],
  ['sriov-disabled', 1],
]);

export const KNOWN_PRESETS = ['dgx-h100', 'reference-host', 'roce-single', 'sriov-disabled'] as const;

export const DEFAULTS = {
  nodes: 24,
  jobs: 120,
  seed: 1,
  durationSeconds: 240,
  timeScale: 20,
  vfsPerPf: 8,
  pendingTimeoutSeconds: 60,
  percentageOfNodesToScore: 0,
  maxWallSeconds: 600,
} as const;

export const USAGE = `Usage: npm start -- [flags]      (or: node sim/bin/rdmasched-sim.js [flags])

Runs a simulated RDMA cluster on this machine: a fake Kubernetes API server, N simulated nodes
each with a real rdmasched node agent, the real scheduler extender on loopback HTTP, a
kube-scheduler stand-in calling it, a kubelet stand-in, and tenants submitting RDMA/MPI jobs.
Ends with a report.

  --nodes N                  simulated nodes (default ${DEFAULTS.nodes})
  --jobs N                   jobs in the workload (default ${DEFAULTS.jobs}; ignored with --trace)
  --seed N                   seed of the node mix, the workload and the tie-breaks (default ${DEFAULTS.seed})
  --duration S               simulated seconds over which jobs arrive (default ${DEFAULTS.durationSeconds})
  --time-scale X             simulated seconds per wall-clock second (default ${DEFAULTS.timeScale})
  --baseline                 also run the count-only baseline (device plugins only) on the same seed
  --json FILE                write the machine-readable report to FILE
  --hold                     keep serving the extender and metrics after the report, until Ctrl-C
  --trace FILE               run the jobs of a JSON Lines trace instead of generating them
  --write-trace FILE         write the workload that was run as a JSON Lines trace
  --burst N                  one-VF pods in the throughput burst (default: 2 x nodes, at most 5000; 0 skips)
  --presets LIST             node mix, name:weight,... (default dgx-h100:4,reference-host:3,roce-single:2,sriov-disabled:1)
  --vfs-per-pf N             most VFs per PF: agents' limit, baseline's static VFs (default ${DEFAULTS.vfsPerPf})
  --pending-timeout S        simulated seconds a job waits for all its pods before it is cancelled (default ${DEFAULTS.pendingTimeoutSeconds})
  --percentage-of-nodes-to-score P   kube-scheduler's setting; 0 = adaptive default (default 0)
  --scheduler-thread MODE    worker (default: the kube-scheduler stand-in gets its own thread) or inline
  --extender-thread MODE     worker (default with REDIS_URL: the extender gets its own thread) or inline
  --max-wall S               stop the workload phase after S wall-clock seconds (default ${DEFAULTS.maxWallSeconds}; 0 = none)
  --log-level LEVEL          fatal, error (default), warn, info, debug, trace, silent
  --plain                    progress as plain lines, not a bar
  -h, --help                 this text

Environment: REDIS_URL=redis://host:port runs the agents and the extender on that Redis.
`;

function int(
  problems: string[],
  flag: string,
  raw: string | undefined,
  def: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return def;
  if (!/^-?\d+$/.test(raw.trim())) {
    problems.push(`--${flag}: "${raw}" is not a whole number`);
    return def;
  }
  const v = Number(raw);
  if (v < min || v > max) {
    problems.push(`--${flag}: ${v} is out of range (${min}..${max})`);
    return def;
  }
  return v;
}

function num(
  problems: string[],
  flag: string,
  raw: string | undefined,
  def: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return def;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) {
    problems.push(`--${flag}: "${raw}" is not a number`);
    return def;
  }
  if (v < min || v > max) {
    problems.push(`--${flag}: ${v} is out of range (${min}..${max})`);
    return def;
  }
  return v;
}

function parsePresets(problems: string[], raw: string | undefined): ReadonlyMap<string, number> {
  if (raw === undefined) return DEFAULT_PRESETS;
  const out = new Map<string, number>();
  for (const part of raw.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const [name = '', weight = '1'] = part.split(':');
    if (!(KNOWN_PRESETS as readonly string[]).includes(name)) {
      problems.push(`--presets: unknown preset "${name}" (known: ${KNOWN_PRESETS.join(', ')})`);
      continue;
    }
    const w = Number(weight);
    if (!Number.isFinite(w) || w < 0) {
      problems.push(`--presets: weight of ${name} must be a number >= 0, not "${weight}"`);
      continue;
    }
    out.set(name, w);
  }
  if (problems.length === 0 && [...out.values()].every((w) => w <= 0))
    problems.push('--presets: at least one preset needs a positive weight');
  return out;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type ParsedArgs = { readonly help: true } | { readonly help: false; readonly config: SimConfig };

/** Parses the command line. Throws ConfigError listing every problem; changes nothing. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        nodes: { type: 'string' },
        jobs: { type: 'string' },
        seed: { type: 'string' },
        duration: { type: 'string' },
        'time-scale': { type: 'string' },
        baseline: { type: 'boolean' },
        json: { type: 'string' },
        hold: { type: 'boolean' },
        trace: { type: 'string' },
        'write-trace': { type: 'string' },
        burst: { type: 'string' },
        presets: { type: 'string' },
        'vfs-per-pf': { type: 'string' },
        'pending-timeout': { type: 'string' },
        'percentage-of-nodes-to-score': { type: 'string' },
        'scheduler-thread': { type: 'string' },
        'extender-thread': { type: 'string' },
        'max-wall': { type: 'string' },
        'log-level': { type: 'string' },
        plain: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err: unknown) {
    throw new ConfigError([err instanceof Error ? err.message : String(err)]);
  }
  if (values['help'] === true) return { help: true };
  const s = (k: string): string | undefined => {
    const v = values[k];
    return typeof v === 'string' ? v : undefined;
  };
  const problems: string[] = [];
  const nodes = int(problems, 'nodes', s('nodes'), DEFAULTS.nodes, 1, 20_000);
  const jobs = int(problems, 'jobs', s('jobs'), DEFAULTS.jobs, 0, 1_000_000);
  const seed = int(problems, 'seed', s('seed'), DEFAULTS.seed, 0, 2 ** 32 - 1);
  const durationSeconds = num(problems, 'duration', s('duration'), DEFAULTS.durationSeconds, 1, 1e7);
  const timeScale = num(problems, 'time-scale', s('time-scale'), DEFAULTS.timeScale, 0.01, 1e6);
  const defaultBurst = Math.min(5000, 2 * nodes);
  const burstPods = int(problems, 'burst', s('burst'), defaultBurst, 0, 100_000);
  const vfsPerPf = int(problems, 'vfs-per-pf', s('vfs-per-pf'), DEFAULTS.vfsPerPf, 1, 256);
  const pendingTimeoutSeconds = num(
    problems,
    'pending-timeout',
    s('pending-timeout'),
    DEFAULTS.pendingTimeoutSeconds,
    0.1,
    1e7,
  );
  const percentageOfNodesToScore = int(
    problems,
    'percentage-of-nodes-to-score',
    s('percentage-of-nodes-to-score'),
    DEFAULTS.percentageOfNodesToScore,
    0,
    100,
  );
  const maxWallSeconds = num(problems, 'max-wall', s('max-wall'), DEFAULTS.maxWallSeconds, 0, 1e7);
  const presets = parsePresets(problems, s('presets'));
  const thread = s('scheduler-thread') ?? 'worker';
  if (thread !== 'worker' && thread !== 'inline')
    problems.push(`--scheduler-thread: "${thread}" is not one of worker, inline`);
  const redisUrlRaw = env['REDIS_URL'];
  const extenderThread =
    s('extender-thread') ?? (redisUrlRaw !== undefined && redisUrlRaw !== '' ? 'worker' : 'inline');
  if (extenderThread !== 'worker' && extenderThread !== 'inline')
    problems.push(`--extender-thread: "${extenderThread}" is not one of worker, inline`);
  else if (extenderThread === 'worker' && (redisUrlRaw === undefined || redisUrlRaw === ''))
    problems.push(
      '--extender-thread: worker needs REDIS_URL (the in-process store is not shared across threads)',
    );
  const logLevel = s('log-level') ?? 'error';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    problems.push(`--log-level: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  for (const f of ['json', 'trace', 'write-trace'] as const) {
    const v = s(f);
    if (v !== undefined && v.trim() === '') problems.push(`--${f}: needs a file name`);
  }
  const redisUrl = env['REDIS_URL'];
  if (redisUrl !== undefined && redisUrl !== '' && !/^rediss?:\/\/[^\s]+$/.test(redisUrl))
    problems.push(
      `REDIS_URL: "${redisUrl.replace(/\/\/[^@]*@/, '//***@')}" is not a redis:// or rediss:// URL`,
    );
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    help: false,
    config: Object.freeze({
      nodes,
      jobs,
      seed,
      durationSeconds,
      timeScale,
      baseline: values['baseline'] === true,
      jsonFile: s('json'),
      hold: values['hold'] === true,
      traceFile: s('trace'),
      writeTraceFile: s('write-trace'),
      burstPods,
      presets,
      vfsPerPf,
      pendingTimeoutSeconds,
      percentageOfNodesToScore,
      schedulerThread: thread as SchedulerThread,
      extenderThread: extenderThread as SchedulerThread,
      maxWallSeconds,
      redisUrl: redisUrl === undefined || redisUrl === '' ? undefined : redisUrl,
      logLevel: logLevel as SimConfig['logLevel'],
      plainProgress: values['plain'] === true ? true : undefined,
    }),
  };
}
