/**
 * Which VFs of a PF are free, reserved or in use, for the report and the ledger's capacity summary.
 * Pure. The semantics are the ones agreed with the extender (contracts/src/node-report.ts,
 * `PfCapacity.foreignInUse`, docs/adr/0024):
 *
 * - `in-use` comes from the kubelet (the VfUsage port) and carries the pod's UID when known;
 * - `foreignInUse` counts the in-use VFs whose pod holds no reservation on this node (UID unknown,
 *   or no ledger reservation on the node): readers add exactly those to the ledger's counts;
 * - `reserved` is informational: reservations count VFs per PF, not which VF, so as many of the
 *   lowest-numbered configured VFs nobody uses are marked as the PF's reservations still wait for
 *   (reserved count minus the in-use VFs of pods whose reservation names this PF). Their `podUid`
 *   stays unset: the kubelet, not the agent, chooses which VF a pod gets.
 */
import type { Reservation, VfState } from '@rdmasched/contracts';
import type { VfAllocation } from '../ports/vf-usage.js';

export interface VfStateInput {
  readonly pf: string;
  readonly vfs: readonly {
    readonly pciAddress: string;
    readonly index: number;
    readonly configured: boolean;
  }[];
  /** VFs reserved on the PF (ledger `node:<name>:reserved`). */
  readonly reservedCount: number;
  /** VFs in use, by VF address (only this PF's matter). */
  readonly inUse: ReadonlyMap<string, VfAllocation>;
  /** Reservation records on this node, by pod UID (at least those of the pods using VFs here). */
  readonly reservations: ReadonlyMap<string, Reservation>;
}

export interface VfStateOutput {
  readonly states: ReadonlyMap<string, { readonly state: VfState; readonly podUid: string | null }>;
  /** In-use VFs whose pod holds no reservation on this node (not scheduled by rdmasched, or not named yet). */
  readonly foreignInUse: number;
  readonly inUseCount: number;
}

export function assignVfStates(input: VfStateInput): VfStateOutput {
  const states = new Map<string, { state: VfState; podUid: string | null }>();
  const ownOnPf = (r: Reservation): number =>
    r.pfs.filter((p) => p.pfPciAddress === input.pf).reduce((s, p) => s + p.count, 0);
  const usedPerPod = new Map<string, number>();
  let accounted = 0;
  let foreign = 0;
  let inUseCount = 0;
  for (const vf of input.vfs) {
    const a = input.inUse.get(vf.pciAddress);
    if (a === undefined || a.pf !== input.pf) continue;
    inUseCount++;
    states.set(vf.pciAddress, { state: 'in-use', podUid: a.podUid });
    const r = a.podUid === null ? undefined : input.reservations.get(a.podUid);
    if (r === undefined) {
      foreign++;
      continue;
    }
    // The pod holds a reservation on this node: never foreign. It accounts for this PF's reserved
    // VFs up to what its reservation counts here (the kubelet may have put it on another PF).
    const used = usedPerPod.get(r.podUid) ?? 0;
    usedPerPod.set(r.podUid, used + 1);
    if (used < ownOnPf(r)) accounted++;
  }
  let outstanding = Math.max(0, input.reservedCount - accounted);
  const byIndex = [...input.vfs].sort((x, y) => x.index - y.index);
  for (const vf of byIndex) {
    if (states.has(vf.pciAddress)) continue;
    if (outstanding > 0 && vf.configured) {
      states.set(vf.pciAddress, { state: 'reserved', podUid: null });
      outstanding--;
    } else {
      states.set(vf.pciAddress, { state: 'free', podUid: null });
    }
  }
  return { states, foreignInUse: foreign, inUseCount };
}
