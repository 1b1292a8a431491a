/**
 * The capacity model (docs/adr/0003), per PF:
 *
 *   ready      = configured VFs (exist, driver bound, GUID/MAC set)
 *   held       = VFs reserved in the ledger on this PF (while the ledger holds nothing for the
 *                node: the VFs the report marks `reserved`, which are informational otherwise)
 *              + VFs the report marks `in-use` for pods that hold no ledger reservation on this
 *                node (pods not scheduled by rdmasched, or not named yet by the agent); with an
 *                empty ledger `held` is exactly what the report marks reserved or in use
 *   capacity   = max(ready, min(numVfs, maxVfs)) when held > 0: a held PF is never resized
 *                (resizing destroys every VF); provisioning may only configure VFs that exist
 *              = max(maxVfs, ready) when held == 0: an idle PF is provisioned to maxVfs (the agent
 *                enables exactly maxVfs and refuses more); ready VFs beyond it need no provisioning
 *   (the bind script in the ledger applies the same rules: adapters/redis/ledger-scripts.ts)
 *   avail      = capacity - held, or 0 when the PF cannot take VFs now: SR-IOV disabled, port not
 *                ACTIVE, a resize claim in the ledger, or the agent resizing it
 *   readyFree  = min(avail, ready - held): VFs a pod can have without any provisioning
 *
 * Pure: the same view and reservations give the same capacity.
 */
import type { NodeReservations } from '../ports/reservation-view.js';
import type { NodeView } from './node-view.js';

export type PfBlock = 'sriov-disabled' | 'port-down' | 'resize-claim' | 'resizing';

export interface NodeCapacity {
  /** Per PF, indexed like `view.pfs`. */
  readonly held: Int32Array;
  /** VFs the PF can give now, with or without provisioning. */
  readonly avail: Int32Array;
  /** VFs the PF can give now without provisioning. */
  readonly readyFree: Int32Array;
  /** `avail` as if every port were ACTIVE (tells "port down" from "too few VFs"). */
  readonly availIfPortUp: Int32Array;
  /** Why a PF takes nothing now; null when it can. */
  readonly blocked: readonly (PfBlock | null)[];
  /**
   * GPUs (indices into view.gpus) a pod can have now: not allocated in the report, and not named
   * by the reservation of a pod the kubelet has not admitted yet (the report marks a GPU allocated
   * only once the pod runs; counting the reservation's GPUs meanwhile stops pods scheduled back to
   * back from being planned onto the same GPUs). A GPU the report marks allocated is free when
   * the released reservation of a gone pod named it and the report still shows that pod holding
   * VFs: the report predates the pod's end, and the kubelet freed its devices with it.
   */
  readonly freeGpus: readonly number[];
}

/** GPUs free for a new pod: see NodeCapacity.freeGpus. */
export function freeGpusOf(view: NodeView, reservations: NodeReservations | undefined): number[] {
  const promised = new Set<string>();
  for (const [pod, gpus] of reservations?.reservedGpus ?? []) {
    if (view.admittedPods.has(pod)) continue;
    for (const g of gpus) promised.add(g);
  }
  // Allocated in a report taken before their pod went: free now (see NodeCapacity.freeGpus).
  const freed = new Set<string>();
  for (const [pod, gpus] of reservations?.releasedGpus ?? []) {
    if (!view.admittedPods.has(pod)) continue;
    for (const g of gpus) freed.add(g);
  }
  const out: number[] = [];
  for (const g of view.gpus)
    if ((!g.allocated || freed.has(g.pciAddress)) && !promised.has(g.pciAddress)) out.push(g.index);
  return out;
}

/**
 * `evicted` (preemption): pods whose reservations the caller already left out of `reservations`
 * and whose in-use VFs must not count as held either.
 */
export function computeCapacity(
  view: NodeView,
  reservations: NodeReservations | undefined,
  evicted?: ReadonlySet<string>,
): NodeCapacity {
  const n = view.pfs.length;
  const held = new Int32Array(n);
  const avail = new Int32Array(n);
  const readyFree = new Int32Array(n);
  const availIfPortUp = new Int32Array(n);
  const blocked: (PfBlock | null)[] = [];
  for (const pf of view.pfs) {
    const p = pf.index;
    // The ledger is authoritative for reservations; the report's `reserved` marks stand in for
    // it only while the ledger holds nothing for the node (contracts: VfReport.state).
    let h = reservations === undefined ? pf.reservedVfs : (reservations.reservedByPf.get(pf.pciAddress) ?? 0);
    for (const pod of pf.inUseVfPods) {
      if (evicted !== undefined && pod !== null && evicted.has(pod)) continue;
      if (pod === null || reservations === undefined || !reservations.podUids.has(pod)) h++;
    }
    held[p] = h;
    const capacity = h > 0 ? pf.heldCapacity : pf.idleCapacity;
    const free = Math.max(0, capacity - h);
    let block: PfBlock | null = null;
    if (!pf.sriovEnabled) block = 'sriov-disabled';
    else if (reservations?.resizeClaims.has(pf.pciAddress) === true) block = 'resize-claim';
    else if (pf.resizing) block = 'resizing';
    else if (!pf.portActive) block = 'port-down';
    blocked.push(block);
    availIfPortUp[p] = block === null || block === 'port-down' ? free : 0;
    if (block === null) {
      avail[p] = free;
      readyFree[p] = Math.min(free, Math.max(0, pf.configuredVfs - h));
    }
  }
  return { held, avail, readyFree, availIfPortUp, blocked, freeGpus: freeGpusOf(view, reservations) };
}
