/**
 * Which VF GUIDs belong in which tenant PKey (docs/adr/0018), and what to change at the subnet
 * manager to get there. Pure.
 *
 * Desired: a GUID of an InfiniBand VF that a node reports `in-use` by a pod (`podUid`, named by
 * the agent through the ledger) whose reservation belongs to a tenant with a PKey. Which VF a pod
 * gets is the kubelet's choice at admission, so membership follows the reports, not the
 * reservation's counts; a reservation that is released takes its pod's GUIDs out with it.
 *
 * Managed: the PKeys of the tenants (and any PKey that was managed before in this process); in
 * them, only GUIDs rdmasched owns are ever removed: those of the cluster-wide identity pool's range
 * (ADR 0020) or of a VF some node reports. A GUID an admin put in a tenant PKey for a host outside
 * rdmasched stays. Removing the rest is what stops GUIDs of destroyed VFs and ended pods from
 * leaking (ib-kubernetes#89).
 */
import type { NodeReport } from '@rdmasched/contracts';

export interface GuidRange {
  readonly start: bigint;
  readonly size: bigint;
}

export function guidValue(guid: string): bigint | undefined {
  const hex = guid.replaceAll(':', '');
  return /^[0-9a-fA-F]{16}$/.test(hex) ? BigInt(`0x${hex}`) : undefined;
}

export function inRange(guid: string, range: GuidRange): boolean {
  const v = guidValue(guid);
  return v !== undefined && v >= range.start && v < range.start + range.size;
}

export interface PartitionInput {
  readonly reports: Iterable<NodeReport>;
  /** The tenant of a pod's reservation ('' or undefined: none). */
  readonly tenantOfPod: (podUid: string) => string | undefined;
  /** The PKey (15-bit partition) of a tenant, when it has one. */
  readonly pkeyOfTenant: (tenant: string) => number | undefined;
  /** PKeys to manage even without desired members (every tenant's PKey, earlier ones). */
  readonly managedPkeys: Iterable<number>;
  /** Members per PKey now; undefined when the subnet manager cannot list (then nothing is removed). */
  readonly actual: ReadonlyMap<number, ReadonlySet<string>> | undefined;
  readonly pool: GuidRange;
}

export interface PartitionPlan {
  readonly desired: ReadonlyMap<number, ReadonlySet<string>>;
  readonly add: ReadonlyMap<number, readonly string[]>;
  readonly remove: ReadonlyMap<number, readonly string[]>;
}

export function planPartitions(input: PartitionInput): PartitionPlan {
  const desired = new Map<number, Set<string>>();
  const known = new Set<string>();
  for (const report of input.reports) {
    for (const pf of report.pfs) {
      if (pf.linkType !== 'ib') continue;
      for (const vf of pf.vfs) {
        if (vf.guid === null) continue;
        known.add(vf.guid);
        if (vf.state !== 'in-use' || vf.podUid === undefined || vf.podUid === null) continue;
        const tenant = input.tenantOfPod(vf.podUid);
        if (tenant === undefined || tenant === '') continue;
        const pkey = input.pkeyOfTenant(tenant);
        if (pkey === undefined) continue;
        let set = desired.get(pkey);
        if (set === undefined) desired.set(pkey, (set = new Set()));
        set.add(vf.guid);
      }
    }
  }
  const pkeys = new Set<number>([...input.managedPkeys, ...desired.keys()]);
  const add = new Map<number, string[]>();
  const remove = new Map<number, string[]>();
  for (const pkey of [...pkeys].sort((a, b) => a - b)) {
    const want = desired.get(pkey) ?? new Set<string>();
    const have = input.actual?.get(pkey) ?? new Set<string>();
    const toAdd = [...want].filter((g) => !have.has(g)).sort();
    if (toAdd.length > 0) add.set(pkey, toAdd);
    if (input.actual === undefined) continue;
    const toRemove = [...have].filter((g) => !want.has(g) && (known.has(g) || inRange(g, input.pool))).sort();
    if (toRemove.length > 0) remove.set(pkey, toRemove);
  }
  return { desired, add, remove };
}
