/**
 * Preemption for VFs (docs/adr/0016): kube-scheduler proposes, per node, pods to evict so that the
 * preemptor fits; the extender keeps a node only if evicting its allowed victims frees the VFs the
 * pod needs, and keeps the fewest VF-holding victims that do. Pure.
 *
 * - A victim another tenant owns is dropped unless the preemptor's tenant allows it
 *   (RdmaTenant `crossTenantPreemption`: Never, LowerPriority, Any). Pods of no tenant rank below
 *   every tenant; a preemptor of no tenant may evict only pods of no tenant.
 * - Victims holding no VFs on the node (no reservation, no VF in use) are kept as proposed:
 *   kube-scheduler chose them for resources the extender does not see (CPU, memory, GPUs).
 * - VF-holding victims are reprieved one by one, in the proposal's order, while the pod still
 *   fits without them.
 * GPUs are left to kube-scheduler (`nvidia.com/gpu` is not ignoredByScheduler): the plan may use
 * any GPU of the node here.
 */
import { computeCapacity } from './capacity.js';
import type { NodeView } from './node-view.js';
import { place } from './placement.js';
import type { PodRequest } from './pod-request.js';
import type { PackingPolicy } from './score.js';
import type { CrossTenantPreemption } from './tenant-catalog.js';
import type { NodeReservations } from '../ports/reservation-view.js';
import type { ReservedPf } from '@rdmasched/contracts';

export interface Victim {
  readonly uid: string;
  /** The victim's reservation on this node, if any. */
  readonly reservation: readonly ReservedPf[] | undefined;
  /** Tenant name; '' = a pod of no tenant; undefined = unknown (treated as another tenant). */
  readonly tenant: string | undefined;
  /** Priority of the victim's tenant (-1 for no tenant). */
  readonly tenantPriority: number;
}

export interface Preemptor {
  readonly request: PodRequest;
  readonly tenant: string;
  readonly tenantPriority: number;
  readonly policy: CrossTenantPreemption;
}

export type NodeVerdict =
  | { readonly keep: true; readonly victims: readonly string[]; readonly trimmed: boolean }
  | { readonly keep: false; readonly why: string };

/** Whether the preemptor's tenant policy lets it evict this victim. */
export function mayEvict(p: Preemptor, v: Victim): boolean {
  if (p.policy === 'Any') return true;
  if (v.tenant !== undefined && v.tenant === p.tenant) return true;
  if (p.tenant === '') return false;
  return p.policy === 'LowerPriority' && v.tenant !== undefined && v.tenantPriority < p.tenantPriority;
}

function without(r: NodeReservations, evicted: readonly Victim[]): NodeReservations {
  const reservedByPf = new Map(r.reservedByPf);
  const podUids = new Set(r.podUids);
  for (const v of evicted) {
    if (!podUids.delete(v.uid)) continue;
    for (const p of v.reservation ?? []) {
      const left = (reservedByPf.get(p.pfPciAddress) ?? 0) - p.count;
      if (left > 0) reservedByPf.set(p.pfPciAddress, left);
      else reservedByPf.delete(p.pfPciAddress);
    }
  }
  return { reservedByPf, resizeClaims: r.resizeClaims, podUids };
}

export function judgeNode(input: {
  readonly view: NodeView;
  readonly reservations: NodeReservations;
  readonly preemptor: Preemptor;
  readonly victims: readonly Victim[];
  readonly policy: PackingPolicy;
}): NodeVerdict {
  const { view, preemptor } = input;
  const allowed = input.victims.filter((v) => mayEvict(preemptor, v));
  const inUse = new Set(view.pfs.flatMap((pf) => pf.inUseVfPods.filter((u): u is string => u !== null)));
  const holdsVfs = (v: Victim) => v.reservation !== undefined || inUse.has(v.uid);
  const others = allowed.filter((v) => !holdsVfs(v));
  const everyGpu = view.gpus.map((g) => g.index);
  const fits = (evicted: readonly Victim[]) =>
    place({
      view,
      capacity: computeCapacity(
        view,
        without(input.reservations, evicted),
        new Set(evicted.map((v) => v.uid)),
      ),
      request: preemptor.request,
      policy: input.policy,
      gpus: everyGpu,
    }) !== undefined;
  let evicted = allowed.filter(holdsVfs);
  if (!fits(evicted)) {
    return {
      keep: false,
      why:
        allowed.length < input.victims.length
          ? 'the victims tenancy allows would not free enough VFs'
          : 'evicting the victims would not free enough VFs',
    };
  }
  for (const v of [...evicted]) {
    const next = evicted.filter((x) => x !== v);
    if (fits(next)) evicted = next;
  }
  const keepUids = new Set([...others, ...evicted].map((v) => v.uid));
  const victims = input.victims.filter((v) => keepUids.has(v.uid)).map((v) => v.uid);
  return { keep: true, victims, trimmed: victims.length < input.victims.length };
}
