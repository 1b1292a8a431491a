/**
 * The reservation ledger, write side (docs/adr/0002, 0003 and its amendment, 0016). Filter and
 * prioritize never call it: they read the `ReservationView` (the ledger mirror). Bind, release
 * and reconcile do.
 *
 * Every method is atomic on its own: one Lua script in the `{ledger}` slot in Redis, one
 * synchronous step in memory. Each change appends its `LedgerEvent` in the same atomic step, so a
 * mirror following the events never disagrees with the ledger.
 */
import type { LinkType, Reservation } from '@rdmasched/contracts';

/** A tenant's VF quota per link type; undefined = not limited (RdmaTenant spec.quota). */
export type TenantQuota = Readonly<Record<LinkType, number | undefined>>;

export const NO_QUOTA: TenantQuota = Object.freeze({ ib: undefined, roce: undefined });

/** Why a reservation was refused; stable codes (metrics label, README). */
export const RESERVE_REJECT_CODES = [
  /** The tenant's usage plus the request exceeds its quota for a link type. */
  'QUOTA',
  /** The node's agent has not published a capacity summary for the PF. */
  'NO_SUMMARY',
  /** The PF is not of the link type the reservation asks for. */
  'LINK_TYPE',
  /** The PF carries a resize claim (the agent or another pod is resizing it). */
  'CLAIMED',
  /** The agent reports the PF as being resized. */
  'RESIZING',
  /** The PF's port is not ACTIVE. */
  'PORT_DOWN',
  /** Not enough VFs on the PF under ADR 0003 rule 2. */
  'CAPACITY',
  /** A GPU the reservation names is promised to another pod's live reservation (docs/adr/0073). */
  'GPU_TAKEN',
  /** The reservation itself is malformed (caught before Redis). */
  'INVALID',
] as const;
export type ReserveRejectCode = (typeof RESERVE_REJECT_CODES)[number];

/** A PF that needs the agent before the pod can have its VFs. */
export interface ProvisionNeed {
  readonly pfPciAddress: string;
  /** What the request asks: the PF's total configured VFs after provisioning. */
  readonly minReadyVfs: number;
}

export type ReserveOutcome =
  /** Taken now. `claims`: PFs whose resize claim it took (owner: the pod UID). */
  | {
      readonly kind: 'reserved';
      readonly reservation: Reservation;
      readonly claims: readonly string[];
      readonly provision: readonly ProvisionNeed[];
    }
  /** The pod already holds a reservation on this node (a retried bind): nothing changed. */
  | {
      readonly kind: 'exists';
      readonly reservation: Reservation;
      readonly provision: readonly ProvisionNeed[];
    }
  /** The pod holds a reservation on another node: nothing changed. */
  | { readonly kind: 'elsewhere'; readonly reservation: Reservation }
  | {
      readonly kind: 'rejected';
      readonly code: ReserveRejectCode;
      readonly message: string;
      /** GPU_TAKEN: the GPU and the pod whose reservation holds it. */
      readonly gpu?: { readonly pciAddress: string; readonly owner: string };
    };

export interface ReleaseOptions {
  /** Release only if the reservation is on this node (a stale caller never frees a newer one). */
  readonly node?: string;
  /** Release only a pending reservation whose `expiresAtMs` is at or before this time (expiry). */
  readonly expiredAtMs?: number;
}

export interface Ledger {
  /**
   * Reserves `reservation.pfs` on `reservation.node` for the pod, atomically with the tenant quota
   * check and the per-PF capacity check (ADR 0003 rule 2, amended): writes the record, the node's
   * per-PF counts and pod set, the tenant usage, the resize claims it needs, and the `reserved`
   * event. Idempotent per pod UID: a pod that already holds a reservation gets `exists` or
   * `elsewhere` and nothing changes.
   *
   * `record: true` records a reservation as it is (state `bound`), with no quota or capacity
   * check and no claim: reconcile uses it for a pod that already runs with VFs the ledger lost.
   *
   * GPUs are promised exclusively (docs/adr/0073): after the PF checks, a GPU of
   * `reservation.gpus` held by another pod's reservation on the node refuses it with `GPU_TAKEN`;
   * a taken reservation holds its GPUs until released. Record mode takes the GPUs no live
   * reservation holds and refuses nothing.
   */
  reserve(
    reservation: Reservation,
    quota: TenantQuota,
    opts?: { readonly record?: boolean },
  ): Promise<ReserveOutcome>;
  /**
   * pending -> bound, only if the stored record is still exactly `reservation` (or already bound
   * with the same content). Appends `bound`. True when the record is bound now.
   */
  markBound(reservation: Reservation): Promise<boolean>;
  /**
   * Releases the pod's reservation: record, counts, pod set, tenant usage; appends `released`.
   * Idempotent: releasing nothing returns undefined and changes nothing. Never removes a resize
   * claim (only the agent does, docs/adr/0003). Returns the released record.
   */
  release(podUid: string, opts?: ReleaseOptions): Promise<Reservation | undefined>;
  get(podUid: string): Promise<Reservation | undefined>;
  /** Every reservation (reconcile, tests). Malformed records are left out. */
  list(): Promise<Reservation[]>;
  /** UIDs of pending reservations whose expiresAtMs is at or before `nowMs`, at most `limit`. */
  expiredPending(nowMs: number, limit: number): Promise<string[]>;
  /** The node's resize claims: PF -> owner (pod UID or `agent`). */
  claims(node: string): Promise<ReadonlyMap<string, string>>;
  /** The node's promised GPUs: GPU PCI address -> pod UID (stale entries included). */
  gpuPromises(node: string): Promise<ReadonlyMap<string, string>>;
  /**
   * Removes the GPU promises of these nodes whose pod holds no reservation on the node (left
   * behind by a release that did not know them); returns how many. Reconcile.
   */
  pruneGpuPromises(nodes: readonly string[]): Promise<number>;
}
