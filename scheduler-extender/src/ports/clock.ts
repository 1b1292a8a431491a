/** Wall-clock time. The core never reads the clock itself: callers pass `nowMs` in. */
export interface Clock {
  /** Unix time in milliseconds. */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
