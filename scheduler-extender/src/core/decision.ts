/**
 * One node's answer to one request shape, as data: feasible with a plan and a score, or
 * rejected with an interned reason. Independent of time: staleness is applied per request by the
 * filter phase, so a decision can be memoised per (node view, reservations, request shape).
 *
 * Order of checks (the first that fails decides):
 *   unresolvable, from the hardware alone, per requested link type:
 *     NO_LINK_TYPE -> RATE_TOO_LOW -> SRIOV_DISABLED -> NEVER_ENOUGH_VFS,
 *     then NOT_ENOUGH_GPUS, then LOCALITY_UNREACHABLE (`required`, even on an idle node)
 *   resolvable, from the current state:
 *     NOT_ENOUGH_FREE_GPUS -> PORT_DOWN / NOT_ENOUGH_VFS (per link type) -> LOCALITY_NOT_NOW
 */
import { LINK_TYPES, type LinkType } from '@rdmasched/contracts';
import type { NodeCapacity } from './capacity.js';
import type { NodeView } from './node-view.js';
import { place, type Placement } from './placement.js';
import type { PodRequest } from './pod-request.js';
import { reason, type Reason } from './reasons.js';
import type { PackingPolicy } from './score.js';

export type NodeDecision =
  | { readonly feasible: true; readonly score: number; readonly placement: Placement }
  | { readonly feasible: false; readonly reason: Reason };

function reject(code: Parameters<typeof reason>[0], linkType: LinkType | null = null): NodeDecision {
  return { feasible: false, reason: reason(code, linkType) };
}

/** Capacity of the node as if nobody held anything and every port were up. */
function idleCapacity(view: NodeView): NodeCapacity {
  const n = view.pfs.length;
  const avail = new Int32Array(n);
  for (const pf of view.pfs) avail[pf.index] = pf.idleCapacity;
  return {
    held: new Int32Array(n),
    avail,
    readyFree: avail,
    availIfPortUp: avail,
    blocked: view.pfs.map((pf) => (pf.sriovEnabled ? null : 'sriov-disabled')),
    freeGpus: view.gpus.map((g) => g.index),
  };
}

/** The node's decision for `request` under `capacity`. Pure. */
export function decideNode(
  view: NodeView,
  capacity: NodeCapacity,
  request: PodRequest,
  policy: PackingPolicy,
): NodeDecision {
  const types = LINK_TYPES.filter((t) => request.vfs[t] > 0);
  // Unresolvable: what the hardware can never do.
  for (const t of types) {
    const pfs = view.pfsByLinkType[t];
    if (pfs.length === 0) return reject('NO_LINK_TYPE', t);
    let fastEnough = 0;
    let sriov = 0;
    let idle = 0;
    for (const p of pfs) {
      const pf = view.pfs[p];
      if (pf === undefined || pf.rateGbps < request.minRateGbps) continue;
      fastEnough++;
      if (pf.sriovEnabled) sriov++;
      idle += pf.idleCapacity;
    }
    if (fastEnough === 0) return reject('RATE_TOO_LOW', t);
    if (sriov === 0) return reject('SRIOV_DISABLED', t);
    if (idle < request.vfs[t]) return reject('NEVER_ENOUGH_VFS', t);
  }
  if (request.gpus > view.gpus.length) return reject('NOT_ENOUGH_GPUS');
  const first = types[0] ?? 'ib';
  if (request.gpus > 0 && request.gpuLocality === 'required') {
    const everyGpu = view.gpus.map((g) => g.index);
    const idle = place({ view, capacity: idleCapacity(view), request, policy, gpus: everyGpu });
    if (idle === undefined) return reject('LOCALITY_UNREACHABLE', first);
  }
  // Resolvable: what the node cannot do right now.
  if (request.gpus > capacity.freeGpus.length) return reject('NOT_ENOUGH_FREE_GPUS');
  for (const t of types) {
    let avail = 0;
    let ifPortUp = 0;
    for (const p of view.pfsByLinkType[t]) {
      if ((view.pfs[p]?.rateGbps ?? 0) < request.minRateGbps) continue;
      avail += capacity.avail[p] ?? 0;
      ifPortUp += capacity.availIfPortUp[p] ?? 0;
    }
    if (avail < request.vfs[t]) return reject(ifPortUp >= request.vfs[t] ? 'PORT_DOWN' : 'NOT_ENOUGH_VFS', t);
  }
  const placement = place({ view, capacity, request, policy, gpus: capacity.freeGpus });
  if (placement === undefined) return reject('LOCALITY_NOT_NOW', first);
  return { feasible: true, score: placement.breakdown.score, placement };
}
