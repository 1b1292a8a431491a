/**
 * May this pod have RDMA VFs at all, as a member of its tenant? (docs/adr/0017) Pod-level checks
 * that reject every node alike, in this order:
 *
 *   1. the namespace belongs to a tenant, or the rule for pods of no tenant allows it (NO_TENANT);
 *   2. the tenant allows every link type the pod asks for (LINK_TYPE_NOT_ALLOWED);
 *   3. no Multus network the pod references lives in another tenant's namespace
 *      (CROSS_TENANT_NETWORK; networks in namespaces of no tenant are shared);
 *   4. the tenant's usage (the ledger mirror) plus the request stays within its quota
 *      (QUOTA_EXCEEDED). Bind checks the quota again, atomically, in the ledger script.
 *
 * All four are unresolvable: preemption on a node cannot change them (a tenant's quota is
 * cluster-wide; kube-scheduler retries the pod when pods end). Pure: reads the directory and the
 * usage it is given, no I/O.
 */
import { LINK_TYPES, type LinkType } from '@rdmasched/contracts';
import type { TenantUsage } from './ledger-mirror.js';
import { MULTUS_NETWORKS_ANNOTATION, parseNetworkRefs } from './multus.js';
import type { PodRequest } from './pod-request.js';
import { invalidPodRequest, reasonWithDetail, type Reason } from './reasons.js';
import type { TenantDirectory, TenantInfo } from './tenant-catalog.js';

/** What happens to pods in namespaces no RdmaTenant owns. */
export const UNTENANTED_RULES = ['reject', 'allow'] as const;
export type UntenantedRule = (typeof UNTENANTED_RULES)[number];

export interface PodMeta {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** metadata.annotations (values as sent; non-strings are ignored). */
  readonly annotations: Readonly<Record<string, unknown>> | undefined;
}

export type Admission =
  /** `tenant` undefined: a pod of no tenant, admitted by the `allow` rule. */
  | { readonly kind: 'allowed'; readonly tenant: TenantInfo | undefined }
  | { readonly kind: 'denied'; readonly reason: Reason; readonly tenant: TenantInfo | undefined };

export interface TenantAdmissionOptions {
  readonly directory: TenantDirectory;
  readonly usage: (tenant: string) => TenantUsage;
  readonly untenanted: UntenantedRule;
}

export class TenantAdmission {
  constructor(private readonly opts: TenantAdmissionOptions) {}

  get untenanted(): UntenantedRule {
    return this.opts.untenanted;
  }

  get directory(): TenantDirectory {
    return this.opts.directory;
  }

  /** The tenant owning the pod's namespace (undefined: none). */
  tenantOf(namespace: string): TenantInfo | undefined {
    return this.opts.directory.ownerOf(namespace).tenant;
  }

  admit(pod: PodMeta, request: PodRequest, opts: { readonly checkQuota?: boolean } = {}): Admission {
    const tenant = this.tenantOf(pod.namespace);
    const types = LINK_TYPES.filter((t) => request.vfs[t] > 0);
    if (tenant === undefined && this.opts.untenanted === 'reject')
      return { kind: 'denied', reason: reasonWithDetail('NO_TENANT', null, pod.namespace), tenant };
    if (tenant !== undefined) {
      for (const t of types) {
        if (!tenant.allowedLinkTypes.has(t))
          return {
            kind: 'denied',
            reason: reasonWithDetail('LINK_TYPE_NOT_ALLOWED', t, tenant.name),
            tenant,
          };
      }
    }
    const networks = this.checkNetworks(pod, tenant);
    if (networks !== undefined) return { kind: 'denied', reason: networks, tenant };
    if (tenant !== undefined && opts.checkQuota !== false) {
      const usage = this.opts.usage(tenant.name);
      const over = types.find((t: LinkType) => {
        const q = tenant.quota[t];
        return q !== undefined && usage[t] + request.vfs[t] > q;
      });
      if (over !== undefined)
        return { kind: 'denied', reason: reasonWithDetail('QUOTA_EXCEEDED', over, tenant.name), tenant };
    }
    return { kind: 'allowed', tenant };
  }

  private checkNetworks(pod: PodMeta, tenant: TenantInfo | undefined): Reason | undefined {
    const raw = pod.annotations?.[MULTUS_NETWORKS_ANNOTATION];
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw !== 'string')
      return invalidPodRequest(`annotation ${MULTUS_NETWORKS_ANNOTATION} must be a string`);
    const refs = parseNetworkRefs(raw, pod.namespace);
    if (!refs.ok) return invalidPodRequest(refs.message);
    for (const ref of refs.refs) {
      if (ref.namespace === pod.namespace) continue;
      const owner = this.tenantOf(ref.namespace);
      if (owner !== undefined && owner.name !== tenant?.name)
        return reasonWithDetail('CROSS_TENANT_NETWORK', null, `${ref.namespace}/${ref.name}`);
    }
    return undefined;
  }
}
