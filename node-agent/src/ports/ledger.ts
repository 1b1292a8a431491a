/**
 * The agent's view of the reservation ledger (`{ledger}` slot, docs/adr/0003): reserved VF counts
 * per PF, resize claims, reservation records. The extender writes reservations; the agent only
 * takes and releases resize claims. Every claim change appends a `claimed` / `claim-released`
 * LedgerEvent atomically with it (contracts/src/reservation.ts), so mirrors of the ledger (every
 * extender replica) can never see a claim the event stream does not explain.
 */
import type { Reservation } from '@rdmasched/contracts';

/** Claim owner of the agent's own warm-pool work; otherwise the owner is a pod UID. */
export const AGENT_CLAIM_OWNER = 'agent';

export interface NodeHolds {
  /** PF PCI address -> VFs reserved on it (all reservations of the node). */
  readonly reserved: ReadonlyMap<string, number>;
  /** PF PCI address -> owner of its resize claim. */
  readonly claims: ReadonlyMap<string, string>;
}

export type ClaimOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** CLAIMED: another owner holds the claim; HELD: reservations other than the owner's name the
       * PF; NO_RESERVATION: the pod has no reservation (on this node and PF). */
      readonly reason: 'CLAIMED' | 'HELD' | 'NO_RESERVATION';
      readonly detail: string;
    };

export interface AgentLedger {
  holds(node: string): Promise<NodeHolds>;
  /** Reservation records of these pods (missing or malformed ones are absent from the map). */
  reservations(podUids: readonly string[]): Promise<ReadonlyMap<string, Reservation>>;
  /**
   * Every reservation on the node (its pods' records, each naming namespace, podName and podUid):
   * how the agent names the pods the kubelet reports by namespace/name. Records that are missing,
   * malformed or name another node are left out. Read-only.
   */
  reservationsOfNode(node: string): Promise<readonly Reservation[]>;
  /**
   * Takes (or confirms) the PF's resize claim for `owner`, atomically:
   * - fails CLAIMED when another owner holds it;
   * - `agent`: fails HELD when any reservation names the PF;
   * - a pod UID: fails NO_RESERVATION unless the pod's reservation names this node and PF, and HELD
   *   when the PF's reserved count is more than that pod's own.
   * Idempotent: taking a claim one already holds succeeds (and appends no event).
   * A claim that is taken appends a `claimed` event in the same atomic step.
   */
  takeClaim(node: string, pf: string, owner: string): Promise<ClaimOutcome>;
  /**
   * Removes the claim only if `owner` holds it; true when removed, and then a `claim-released`
   * event is appended in the same atomic step. Idempotent.
   */
  releaseClaim(node: string, pf: string, owner: string): Promise<boolean>;
}
