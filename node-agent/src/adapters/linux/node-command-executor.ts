import { execFile } from 'node:child_process';
import type { CommandExecutor, CommandResult } from '../../ports/command-executor.js';

/**
 * Runs host tools with `execFile` (no shell). Exit codes are data: a missing tool answers 127, a
 * timeout 124, like a shell would.
 */
export class NodeCommandExecutor implements CommandExecutor {
  constructor(private readonly defaults: { timeoutMs: number } = { timeoutMs: 30_000 }) {}

  run(file: string, args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<CommandResult> {
    const timeout = opts.timeoutMs ?? this.defaults.timeoutMs;
    return new Promise((resolve) => {
      execFile(
        file,
        [...args],
        { timeout, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
        (err, stdout, stderr) => {
          if (err === null) {
            resolve({ exitCode: 0, stdout, stderr });
            return;
          }
          const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
          const exitCode =
            e.code === 'ENOENT' ? 127 : e.killed === true ? 124 : typeof e.code === 'number' ? e.code : 1;
          resolve({ exitCode, stdout, stderr: stderr || e.message });
        },
      );
    });
  }
}
