/** A `rdmasched-bench` subcommand. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Returns the process exit code. */
  run(argv: readonly string[]): Promise<number>;
}
