/**
 * Runs a host tool (`ip`, `devlink`) with an argument vector: never through a shell, so no value
 * can be interpreted as shell syntax. Implementations: `NodeCommandExecutor` (child_process on
 * Linux) and the simulated host's emulation of the same commands.
 */
export interface CommandResult {
  /** Process exit code; 127 when the tool is missing; 124 after the timeout. */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandExecutor {
  /** Runs `file args...` and resolves with its result; rejects only for bugs (never for exit codes). */
  run(file: string, args: readonly string[], opts?: { timeoutMs?: number }): Promise<CommandResult>;
}
