/**
 * The simulated cluster's tenants: one namespace each and an RdmaTenant with a VF quota per link
 * type, the link types it may use, an InfiniBand partition (PKey) and a RoCE VLAN. Quotas are a
 * share of the cluster's VF capacity, so tenants contend for VFs and quota rejections happen.
 */
import { LINK_TYPES, type LinkType } from '@rdmasched/contracts';
import type { RdmaTenant } from '@rdmasched/crds';
import type { Job } from '../workload/model.js';

export interface TenantPlan {
  readonly name: string;
  readonly namespace: string;
  readonly allowedLinkTypes: readonly LinkType[];
  /** VF quota per link type; absent = not limited. */
  readonly quota: Readonly<Partial<Record<LinkType, number>>>;
  readonly pkey: string | undefined;
  readonly vlan: number | undefined;
}

/** The tenant of the throughput burst: no quota, both link types. */
export const PERF_TENANT = 'perf';

/** Share of the cluster's VFs of a link type each workload tenant may hold. */
export const QUOTA_SHARE = 0.12;

/**
 * One tenant per tenant name in the workload (plus the burst's), allowed the link types its jobs
 * use, with a quota of QUOTA_SHARE of the cluster's VF capacity per link type.
 */
export function planTenants(
  jobs: readonly Job[],
  capacity: Readonly<Record<LinkType, number>>,
): TenantPlan[] {
  const uses = new Map<string, Set<LinkType>>();
  for (const j of jobs) {
    const s = uses.get(j.tenant) ?? new Set<LinkType>();
    for (const t of LINK_TYPES) if ((j.perPod.vfs[t] ?? 0) > 0) s.add(t);
    uses.set(j.tenant, s);
  }
  const names = [...uses.keys()].sort();
  const plans = names.map((name, i): TenantPlan => {
    const allowed = LINK_TYPES.filter((t) => uses.get(name)?.has(t) === true);
    const quota: Partial<Record<LinkType, number>> = {};
    for (const t of allowed) quota[t] = Math.max(1, Math.floor(capacity[t] * QUOTA_SHARE));
    return {
      name,
      namespace: name,
      allowedLinkTypes: allowed,
      quota,
      pkey: allowed.includes('ib') ? `0x${(0x0a01 + i).toString(16).padStart(4, '0')}` : undefined,
      vlan: allowed.includes('roce') ? 300 + i : undefined,
    };
  });
  plans.push({
    name: PERF_TENANT,
    namespace: PERF_TENANT,
    allowedLinkTypes: LINK_TYPES,
    quota: {},
    pkey: '0x7f00',
    vlan: 999,
  });
  return plans;
}

export function tenantObject(t: TenantPlan): RdmaTenant {
  return {
    apiVersion: 'rdmasched.io/v1alpha1',
    kind: 'RdmaTenant',
    metadata: { name: t.name },
    spec: {
      namespaces: [t.namespace],
      allowedLinkTypes: [...t.allowedLinkTypes],
      ...(Object.keys(t.quota).length > 0 ? { quota: { ...t.quota } } : {}),
      ...(t.pkey === undefined ? {} : { infiniband: { pkey: t.pkey } }),
      ...(t.vlan === undefined ? {} : { roce: { vlan: t.vlan } }),
    },
  };
}

export function namespaceObject(t: TenantPlan): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: t.namespace, labels: { 'rdmasched.io/tenant': t.name } },
  };
}
