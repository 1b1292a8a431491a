/**
 * Runs one perftest process: captures stdout and stderr (also merged, in arrival order, as
 * `kubectl logs` would show them), enforces a timeout, and stops it on abort. A stopped process
 * gets SIGTERM, then SIGKILL after a grace period, so nothing is left running.
 */
import { spawn } from 'node:child_process';

export interface ProcessResult {
  /** Exit code; null when killed by a signal or never started. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** stdout and stderr interleaved in the order they arrived. */
  readonly output: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** Set when the process could not be started (ENOENT, EACCES). */
  readonly spawnError: string | null;
  readonly durationMs: number;
}

export interface ManagedProcess {
  readonly command: string;
  readonly args: readonly string[];
  /** Settles when the process has exited (never rejects). */
  readonly done: Promise<ProcessResult>;
  /** True until the process has exited. */
  running(): boolean;
  /** SIGTERM now, SIGKILL after the grace period. Idempotent. */
  stop(): void;
}

export interface StartOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL. */
  readonly killGraceMs?: number;
}

export function startProcess(command: string, args: readonly string[], opts: StartOptions): ManagedProcess {
  const started = performance.now();
  const chunks: string[] = [];
  let timedOut = false;
  let aborted = false;
  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;

  // Its own process group, so stopping it also stops anything it started (a wrapper script's
  // children would otherwise keep the pipes open and outlive it).
  const child = spawn(command, [...args], {
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (c: string) => chunks.push(c));
  child.stderr.on('data', (c: string) => chunks.push(c));

  const stop = () => {
    if (exited || killTimer !== undefined) return;
    signalGroup('SIGTERM');
    killTimer = setTimeout(() => {
      if (!exited) signalGroup('SIGKILL');
    }, opts.killGraceMs ?? 2000);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, opts.timeoutMs);
  const onAbort = () => {
    aborted = true;
    stop();
  };
  if (opts.signal?.aborted === true) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  const done = new Promise<ProcessResult>((resolve) => {
    let spawnError: string | null = null;
    child.on('error', (err) => {
      spawnError = err.message;
      // 'close' may not follow a spawn failure.
      if (child.pid === undefined) finish(null, null);
    });
    child.on('close', (code, signal) => finish(code, signal));
    function finish(code: number | null, signal: NodeJS.Signals | null) {
      if (exited) return;
      exited = true;
      clearTimeout(timer);
      if (killTimer !== undefined) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({
        exitCode: code,
        signal,
        output: chunks.join(''),
        timedOut,
        aborted,
        spawnError,
        durationMs: performance.now() - started,
      });
    }
  });

  return { command, args, done, running: () => !exited, stop };
}

/** The last `lines` lines of an output, for failure reports. */
export function tail(output: string, lines = 20): string {
  const all = output.replace(/\s+$/, '').split(/\r?\n/);
  return all.slice(-lines).join('\n');
}
