/**
 * The filter path's per-node data, flat and interleaved, indexed by a node's slot (a small
 * integer the snapshot assigns per node name and keeps while the node exists). At 5,000
 * candidates per request, chasing object pointers or reading several arrays per node costs more
 * than the decision itself (cache misses); here a node's hot data is two adjacent numbers.
 *
 *   data[2 * slot]     unix ms after which the node is stale (last heartbeat + stale limit)
 *   data[2 * slot + 1] epoch: changes whenever anything the node's decisions depend on changes
 *                      (a new report, its reservations); 0 never matches a memo entry
 *
 * A request shape memoises one decision code per slot with the epoch it was computed at
 * (shape.ts); it is valid while the slot's epoch is the same.
 */
export class HotTable {
  capacity = 0;
  data = new Float64Array(0);

  ensureCapacity(n: number): void {
    if (n <= this.capacity) return;
    const capacity = Math.max(n, this.capacity * 2, 64);
    const next = new Float64Array(capacity * 2);
    next.set(this.data);
    this.data = next;
    this.capacity = capacity;
  }

  staleAt(slot: number): number {
    return this.data[2 * slot] ?? 0;
  }

  setStaleAt(slot: number, ms: number): void {
    this.data[2 * slot] = ms;
  }

  epoch(slot: number): number {
    return this.data[2 * slot + 1] ?? 0;
  }

  /** Moves the slot to a new epoch (1..2^31-1, never 0). */
  bumpEpoch(slot: number): void {
    const next = ((this.data[2 * slot + 1] ?? 0) + 1) % 0x7fffffff;
    this.data[2 * slot + 1] = next === 0 ? 1 : next;
  }
}

/** Decision codes: 0..10 feasible with that score; REJECTED + reason id otherwise. */
export const REJECTED = 16;
