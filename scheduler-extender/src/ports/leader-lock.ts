/**
 * One replica at a time runs the periodic work: reconcile, partition membership, tenant status
 * (docs/adr/0019). A lock with a lease: held while renewed, lost when not renewed in time.
 */
export interface LeaderLock {
  /**
   * Takes the lock for `leaseMs` if nobody holds it, or extends it if this holder does. True when
   * this holder has it now. Never throws for "held by another".
   */
  acquire(leaseMs: number): Promise<boolean>;
  /** Gives the lock up if this holder has it. Idempotent. */
  release(): Promise<void>;
}
