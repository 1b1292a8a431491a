/**
 * Exit codes of `rdmasched-bench parse` and `rdmasched-bench rdma local`. Stable: scripts and CI
 * jobs branch on them.
 */
export const EXIT = {
  /** Everything measured passed (parse: the output parsed, and passed when judged). */
  ok: 0,
  /** A verdict failed. */
  fail: 1,
  /** Bad command line or unreadable input file. */
  usage: 2,
  /** perftest (`ib_write_bw`, ...) is not installed or not on PATH. */
  perftestMissing: 3,
  /** No usable RDMA device under `<sys-root>/class/infiniband`. */
  noDevices: 4,
  /** Nothing to judge: a run failed, timed out, printed unparseable output, or no line rate was known. */
  noVerdict: 5,
  /** Interrupted (Ctrl-C); processes were stopped and a partial report written. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
