/**
 * LeaderLock for replicas in one process (tests, the simulation): they share one `LeaderBoard`,
 * which plays the Redis key with its lease.
 */
import type { LeaderLock } from '../../ports/leader-lock.js';

export class LeaderBoard {
  holder: { id: string; untilMs: number } | undefined;
  constructor(readonly nowMs: () => number = Date.now) {}
}

export class InMemoryLeaderLock implements LeaderLock {
  constructor(
    private readonly board: LeaderBoard,
    private readonly id: string,
  ) {}

  acquire(leaseMs: number): Promise<boolean> {
    const now = this.board.nowMs();
    const h = this.board.holder;
    if (h === undefined || h.untilMs <= now || h.id === this.id) {
      this.board.holder = { id: this.id, untilMs: now + leaseMs };
      return Promise.resolve(true);
    }
    return Promise.resolve(false);
  }

  release(): Promise<void> {
    if (this.board.holder?.id === this.id) this.board.holder = undefined;
    return Promise.resolve();
  }
}
