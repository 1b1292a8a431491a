/**
 * The extender's read-only view of the reservation ledger (docs/adr/0003): what is reserved on
 * each PF and which PFs carry a resize claim. Filter and prioritize read it from memory; an
 * implementation that mirrors the Redis ledger (core/ledger-mirror.ts) keeps it current in the background, as
 * the snapshot does for node reports, so no Redis call sits on the filter path.
 *
 * Where no ledger is wired (the embedded extender), `InMemoryReservationView` is used; empty, it
 * returns undefined and the capacity model falls back to what the node report marks `reserved` /
 * `in-use` (see core/capacity.ts).
 */

export interface NodeReservations {
  /** VFs reserved per PF PCI address, summed over every reservation on the node. */
  readonly reservedByPf: ReadonlyMap<string, number>;
  /** PFs with a resize claim: PF PCI address -> owner (pod UID or `agent`). */
  readonly resizeClaims: ReadonlyMap<string, string>;
  /** UIDs of the pods that hold a reservation on this node. */
  readonly podUids: ReadonlySet<string>;
  /**
   * GPUs (PCI addresses) each pod's reservation aligned its VFs with, by pod UID (reservations
   * naming none are left out). Until the pod is admitted, the node report does not show them
   * allocated; the capacity model counts them as taken meanwhile. Absent: none.
   */
  readonly reservedGpus?: ReadonlyMap<string, readonly string[]>;
  /**
   * GPUs named by the reservations of pods that are gone (their reservation was released: the pod
   * ended or was deleted), by pod UID, most recent last, a bounded number per node. The node
   * report lags such a release (the agent republishes after the kubelet freed the devices): while
   * a report still shows the gone pod holding VFs it predates the release, and the capacity model
   * counts these GPUs as free even though that report marks them allocated. Absent: none.
   */
  readonly releasedGpus?: ReadonlyMap<string, readonly string[]>;
}

export interface ReservationView {
  /** The node's reservations, or undefined when the ledger holds nothing for it. Pure read, O(1). */
  forNode(node: string): NodeReservations | undefined;
  /**
   * Calls `listener(node)` synchronously after every change to a node's reservations, so the
   * snapshot can drop decisions it memoised for that node. Returns a function that unsubscribes.
   */
  onChange(listener: (node: string) => void): () => void;
}
