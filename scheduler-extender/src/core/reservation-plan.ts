/**
 * From a placement plan to what bind writes: the Reservation record, the provisioning requests,
 * and the pod annotations the Binding carries. Pure.
 */
import { ANNOTATIONS, type ProvisionRequest, type Reservation, type ReservedPf } from '@rdmasched/contracts';
import { formatPkey } from '@rdmasched/crds';
import type { ProvisionNeed } from '../ports/ledger.js';
import type { Plan } from './placement.js';
import type { TenantInfo } from './tenant-catalog.js';

export function reservationOf(input: {
  readonly plan: Plan;
  readonly pod: { readonly uid: string; readonly namespace: string; readonly name: string };
  readonly node: string;
  readonly tenant: string;
  readonly nowMs: number;
  readonly ttlMs: number;
}): Reservation {
  const pfs: ReservedPf[] = input.plan.pfs.map((p) => ({
    pfPciAddress: p.pciAddress,
    linkType: p.linkType,
    count: p.count,
  }));
  return {
    podUid: input.pod.uid,
    namespace: input.pod.namespace,
    podName: input.pod.name,
    tenant: input.tenant,
    node: input.node,
    pfs,
    gpus: [...input.plan.gpus],
    state: 'pending',
    createdAtMs: Math.floor(input.nowMs),
    expiresAtMs: Math.floor(input.nowMs + input.ttlMs),
  };
}

export function provisionRequests(input: {
  readonly needs: readonly ProvisionNeed[];
  readonly node: string;
  readonly podUid: string;
  readonly nowMs: number;
  readonly deadlineMs: number;
  readonly newId: () => string;
}): ProvisionRequest[] {
  return input.needs.map((n) => ({
    id: input.newId(),
    node: input.node,
    pfPciAddress: n.pfPciAddress,
    minReadyVfs: n.minReadyVfs,
    reason: 'reservation',
    podUid: input.podUid,
    requestedAtMs: Math.floor(input.nowMs),
    deadlineMs: Math.floor(input.deadlineMs),
  }));
}

/**
 * Annotations the Binding carries (the apiserver copies them onto the pod in the same write):
 * the reservation (as bound) for the device plugin, reconcile and people; the tenant's RoCE VLAN
 * and InfiniBand PKey when the pod has VFs of that link type, for the CNI that configures them.
 */
export function bindingAnnotations(r: Reservation, tenant: TenantInfo | undefined): Record<string, string> {
  const out: Record<string, string> = { [ANNOTATIONS.reservation]: JSON.stringify({ ...r, state: 'bound' }) };
  const has = (t: 'ib' | 'roce') => r.pfs.some((p) => p.linkType === t);
  if (tenant?.vlan !== undefined && has('roce')) out[ANNOTATIONS.roceVlan] = String(tenant.vlan);
  if (tenant?.pkey !== undefined && has('ib')) out[ANNOTATIONS.ibPkey] = formatPkey(tenant.pkey);
  return out;
}
