/**
 * Which VFs of a PF are free, reserved or in use, for the report and the ledger's capacity summary.
 * Pure. Reservations count VFs per PF (not which VF), so "reserved" VFs are the lowest-numbered
 * configured VFs nobody uses, as many as the reservations still wait for.
 * `podUid` of a reserved VF stays unset: the agent knows how many VFs the ledger reserves on the
 * PF, not which pod will get which VF (the kubelet chooses at admission).
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
  /** Reservation records of the pods that use VFs here. */
  readonly reservations: ReadonlyMap<string, Reservation>;
}

export interface VfStateOutput {
  readonly states: ReadonlyMap<string, { readonly state: VfState; readonly podUid: string | null }>;
  /** In-use VFs that no reservation on this PF accounts for (not scheduled by rdmasched). */
  readonly foreignInUse: number;
  readonly inUseCount: number;
}

export function assignVfStates(input: VfStateInput): VfStateOutput {
  const states = new Map<string, { state: VfState; podUid: string | null }>();
  const ownCount = (podUid: string): number =>
    input.reservations
      .get(podUid)
      ?.pfs.filter((p) => p.pfPciAddress === input.pf)
      .reduce((s, p) => s + p.count, 0) ?? 0;
  const attributedPerPod = new Map<string, number>();
  let attributed = 0;
  let foreign = 0;
  let anonymous = 0;
  let inUseCount = 0;
  for (const vf of input.vfs) {
    const a = input.inUse.get(vf.pciAddress);
    if (a === undefined || a.pf !== input.pf) continue;
    inUseCount++;
    states.set(vf.pciAddress, { state: 'in-use', podUid: a.podUid });
    if (a.podUid === null) {
      anonymous++;
      continue;
    }
    const used = attributedPerPod.get(a.podUid) ?? 0;
    if (used < ownCount(a.podUid)) {
      attributedPerPod.set(a.podUid, used + 1);
      attributed++;
    } else {
      foreign++;
    }
  }
  // The kubelet's APIs do not always name the pod of an allocation (docs/adr/0050): an in-use VF
  // without a pod counts against the PF's reservations that no named VF accounts for yet, and
  // only the rest is foreign. (A pod that requests our resources outside rdmasched is rare; the
  // other choice would count every running rdmasched pod twice.)
  const unclaimed = Math.max(0, input.reservedCount - attributed);
  const anonymousReserved = Math.min(anonymous, unclaimed);
  attributed += anonymousReserved;
  foreign += anonymous - anonymousReserved;
  let outstanding = Math.max(0, input.reservedCount - attributed);
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
