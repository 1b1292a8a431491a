/**
 * Where node reports come from. An adapter loads every node into the snapshot it was built with,
 * then keeps the snapshot current until closed: new reports, heartbeats, removals. Every report
 * goes through `Snapshot.applyReport` / `replaceAll`, so validation and the generation rule are
 * the same for every adapter.
 */
export interface TopologyStore {
  /** Short name for logs and metrics (`redis`, `memory`). */
  readonly kind: string;
  /**
   * Loads every node, marks the snapshot loaded, then follows changes in the background.
   * Resolves once the first load is done; rejects when it cannot be done (the caller exits).
   * Calling it twice is an error.
   */
  start(): Promise<void>;
  /** Stops following and releases connections. Idempotent. */
  close(): Promise<void>;
}
