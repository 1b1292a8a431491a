/**
 * The simulation's error catalogue: stable codes, so the CLI's exit codes and messages stay the
 * same from release to release.
 */
export const SIM_ERROR_CODES = {
  /** A flag or environment value is invalid; every bad one is listed. Exit code 2. */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** The trace file cannot be read or a line is invalid. Exit code 2. */
  INVALID_TRACE: 'INVALID_TRACE',
  /** The simulated cluster could not be brought up (a part failed to start). Exit code 1. */
  STARTUP_FAILED: 'STARTUP_FAILED',
  /** An invariant the simulation checks was broken (a VF given twice, a quota exceeded). Exit code 3. */
  INVARIANT_BROKEN: 'INVARIANT_BROKEN',
} as const;

export type SimErrorCode = (typeof SIM_ERROR_CODES)[keyof typeof SIM_ERROR_CODES];

export class SimError extends Error {
  constructor(
    readonly code: SimErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SimError';
  }
}

/** One error naming every bad setting. */
export class ConfigError extends SimError {
  constructor(readonly problems: readonly string[]) {
    super(SIM_ERROR_CODES.INVALID_CONFIG, `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}
