/**
 * Which VFs containers are using. The kubelet device plugin will feed this port (it is told about
 * every allocation); until then the in-memory implementation is driven by the simulation and tests.
 *
 * The lock is how a resize and an allocation exclude each other on one host: the agent locks a PF
 * before it writes `sriov_numvfs` (refused while any VF of the PF is in use), and the device plugin
 * must not hand out a VF of a locked PF (it reports them unhealthy meanwhile).
 */
export interface VfAllocation {
  /** VF PCI address. */
  readonly vf: string;
  /** Its PF's PCI address. */
  readonly pf: string;
  /** Pod the VF is allocated to, when known (pod resources API); null for a container we cannot name. */
  readonly podUid: string | null;
}

export interface VfUsage {
  /** VFs allocated to containers now, by VF PCI address. */
  inUse(): ReadonlyMap<string, VfAllocation>;
  /**
   * Locks the PF against new allocations. Atomic: returns false, and locks nothing, when a VF of
   * the PF is in use. Idempotent for a PF already locked.
   */
  tryLockPf(pf: string): boolean;
  /** Lifts the lock; idempotent. */
  unlockPf(pf: string): void;
  isLocked(pf: string): boolean;
  /** Called after every allocation or release; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}
