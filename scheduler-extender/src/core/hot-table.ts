/**
 * The filter path's per-node data in flat typed arrays, indexed by a node's slot (a small
 * integer the snapshot assigns per node name and keeps while the node exists). At 5,000
 * candidates per request, chasing object pointers per node costs more than the decision itself
 * (cache misses); here one Map lookup (name -> slot) is followed by reads of a few contiguous
 * arrays.
 *
 * A slot's epoch changes whenever anything its decisions depend on changes (a new report, its
 * reservations); a shape's memoised decision code for the slot is valid while it was computed
 * at the current epoch.
 */
export class HotTable {
  capacity = 0;
  /** Unix ms of the last heartbeat, per slot. */
  heartbeatMs = new Float64Array(0);
  /** Stale when `now - heartbeatMs > staleAfterMs`, per slot. */
  staleAfterMs = new Float64Array(0);
  /** Starts at 1 for a slot in use (0 never matches a memo entry). */
  epoch = new Uint32Array(0);

  ensureCapacity(n: number): void {
    if (n <= this.capacity) return;
    const capacity = Math.max(n, this.capacity * 2, 64);
    const grow = <T extends Float64Array | Uint32Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.heartbeatMs = grow(this.heartbeatMs, (c) => new Float64Array(c));
    this.staleAfterMs = grow(this.staleAfterMs, (c) => new Float64Array(c));
    this.epoch = grow(this.epoch, (c) => new Uint32Array(c));
    this.capacity = capacity;
  }
}

/** Decision codes: 0..10 feasible with that score; REJECTED + reason id otherwise. */
export const REJECTED = 16;
