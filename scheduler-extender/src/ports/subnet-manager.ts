/**
 * The InfiniBand subnet manager, for partition (PKey) membership of VF GUIDs (docs/adr/0018).
 * Adapters: UFM's REST API (adapters/ufm/) and a no-op one (no subnet manager to drive: PKeys
 * are managed outside rdmasched). GUIDs are in `ip link` form, `xx:xx:xx:xx:xx:xx:xx:xx`,
 * lower case; PKeys are the 15-bit partition number. Every method is idempotent.
 */

export interface SubnetManager {
  /** Short name for logs and metrics (`ufm`, `noop`, `memory`). */
  readonly kind: string;
  /** Adds the GUIDs to the partition as full members. Throws when the SM refuses or cannot be reached. */
  addGuidsToPKey(pkey: number, guids: readonly string[]): Promise<void>;
  /** Removes the GUIDs from the partition. Throws when the SM refuses or cannot be reached. */
  removeGuidsFromPKey(pkey: number, guids: readonly string[]): Promise<void>;
  /**
   * GUIDs that are members of each partition, or undefined when the adapter cannot tell (no-op):
   * reconcile then only adds, never removes.
   */
  listGuids(): Promise<ReadonlyMap<number, ReadonlySet<string>> | undefined>;
}
