/**
 * What the `rdmasched-bench` commands (`parse`, `rdma local`, `rdma run`) read from their
 * command lines alike: the arguments with --help, whole numbers, --port-rate-gbps, the verdict
 * thresholds, and Ctrl-C. Each check adds a sentence naming its option to `problems`, so that a
 * command can report every problem at once.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT } from './rdma-local/exit-codes.js';
import type { CommandIo } from './rdma-local/io.js';
import { makeThresholds } from './verdict/thresholds.js';

/**
 * `parseArgs` for a command: its result, or the exit code when the command is already done: the
 * usage printed on --help (exit 0), or the parser's complaint and the usage (exit 2).
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  config: T,
  io: CommandIo,
  usage: string,
): ReturnType<typeof parseArgs<T>> | { readonly exit: number } {
  let parsed;
  try {
    parsed = parseArgs(config);
  } catch (err: unknown) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
    return { exit: EXIT.usage };
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    io.out(usage);
    return { exit: EXIT.ok };
  }
  return parsed;
}

/**
 * The options `rdma local` and `rdma run` share, last in their usage: how the runs are judged
 * (--port-rate-gbps and the thresholds), where the report goes, --json, --dry-run and --help.
 */
export const RDMA_REPORT_OPTIONS = {
  'port-rate-gbps': { type: 'string' },
  'min-bw-fraction': { type: 'string' },
  'max-write-lat-us': { type: 'string' },
  'max-read-lat-us': { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * A reader of whole-number options: undefined when the option is not given, and a problem when
 * it is not a whole number from `min` to `max`.
 */
export function wholeNumberOptions(
  problems: string[],
): (name: string, text: string | undefined, min: number, max: number) => number | undefined {
  return (name, text, min, max) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      problems.push(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
      return undefined;
    }
    return n;
  };
}

/** --port-rate-gbps: undefined when not given; a problem when it is not a positive number. */
export function portRateGbpsOption(text: string | undefined, problems: string[]): number | undefined {
  if (text === undefined) return undefined;
  const gbps = Number(text);
  if (!(Number.isFinite(gbps) && gbps > 0))
    problems.push(`--port-rate-gbps must be a positive number, got ${JSON.stringify(text)}`);
  return gbps;
}

/** The verdict thresholds from --min-bw-fraction, --max-write-lat-us and --max-read-lat-us. */
export function thresholdOptions(
  values: {
    readonly 'min-bw-fraction'?: string | undefined;
    readonly 'max-write-lat-us'?: string | undefined;
    readonly 'max-read-lat-us'?: string | undefined;
  },
  problems: string[],
): ReturnType<typeof makeThresholds> {
  const thresholds = makeThresholds(
    Object.fromEntries(
      (
        [
          ['minBandwidthFraction', values['min-bw-fraction']],
          ['maxWriteLatencyUs', values['max-write-lat-us']],
          ['maxReadLatencyUs', values['max-read-lat-us']],
        ] as const
      )
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, Number(x)]),
    ),
  );
  if (!thresholds.ok) problems.push(...thresholds.errors);
  return thresholds;
}

/** Installs Ctrl-C (SIGINT) and SIGTERM handling on this process; returns the uninstaller. */
export function onProcessInterrupt(handler: () => void): () => void {
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
