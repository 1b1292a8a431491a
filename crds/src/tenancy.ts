/**
 * Which tenant a namespace belongs to, and what a tenant may use. Pure functions over the
 * RdmaTenant objects an informer holds; no I/O.
 */
import type { LinkType } from '@rdmasched/contracts';
import type { RdmaTenant } from './generated/types.js';
import { type Labels, matchesLabelSelector } from './label-selector.js';
import { parsePkey } from './pkey.js';

export interface TenantMatch {
  /** The tenant that owns the namespace, or undefined when none does. */
  readonly tenant: RdmaTenant | undefined;
  /** How it was matched: by name in spec.namespaces, or by spec.namespaceSelector. */
  readonly matchedBy: 'name' | 'selector' | undefined;
  /**
   * Other tenants that also claim the namespace (same or weaker claim), by name: a
   * misconfiguration worth a Conflict condition, resolved deterministically meanwhile.
   */
  readonly alsoClaimedBy: readonly string[];
}

function tenantPriority(t: RdmaTenant): number {
  return t.spec.priority ?? 0;
}

/** Stronger claim first: higher priority, then lexically smaller name. */
function byClaimStrength(a: RdmaTenant, b: RdmaTenant): number {
  const p = tenantPriority(b) - tenantPriority(a);
  if (p !== 0) return p;
  const an = a.metadata.name ?? '';
  const bn = b.metadata.name ?? '';
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/**
 * The tenant owning `namespace`. Rules, in order:
 * 1. a tenant that lists the namespace in spec.namespaces beats one whose namespaceSelector
 *    matches its labels;
 * 2. among equal claims, the higher spec.priority wins;
 * 3. then the lexically smallest tenant name.
 * The result does not depend on the order of `tenants`.
 */
export function tenantForNamespace(
  tenants: readonly RdmaTenant[],
  namespace: string,
  namespaceLabels: Labels,
): TenantMatch {
  const byName = tenants.filter((t) => t.spec.namespaces?.includes(namespace) === true).sort(byClaimStrength);
  const bySelector = tenants
    .filter((t) => !byName.includes(t) && matchesLabelSelector(t.spec.namespaceSelector, namespaceLabels))
    .sort(byClaimStrength);
  const ordered = [...byName, ...bySelector];
  const [winner, ...others] = ordered;
  return {
    tenant: winner,
    matchedBy: winner === undefined ? undefined : byName.length > 0 ? 'name' : 'selector',
    alsoClaimedBy: others.map((t) => t.metadata.name ?? ''),
  };
}

/** Whether the tenant's pods may request VFs of `linkType` (allowedLinkTypes defaults to both). */
export function tenantAllowsLinkType(tenant: RdmaTenant, linkType: LinkType): boolean {
  return (tenant.spec.allowedLinkTypes ?? ['ib', 'roce']).includes(linkType);
}

/**
 * The tenant's VF quota for a link type: a number, or undefined when not limited (left out of
 * spec.quota). A link type the tenant may not use has quota 0.
 */
export function tenantQuota(tenant: RdmaTenant, linkType: LinkType): number | undefined {
  if (!tenantAllowsLinkType(tenant, linkType)) return 0;
  return tenant.spec.quota?.[linkType];
}

export interface TenantConflict {
  readonly field: 'namespace' | 'pkey' | 'vlan';
  /** The namespace, PKey (as "0x%04x"... as written) or VLAN in dispute. */
  readonly value: string;
  /** Tenants that claim it, sorted by name. */
  readonly tenants: readonly string[];
}

/**
 * Claims that two tenants cannot both hold: the same namespace listed by name, the same PKey
 * partition, the same RoCE VLAN. (Selector overlaps depend on namespace labels; see
 * tenantForNamespace.) A schema cannot say this, so status writers report it as a Conflict.
 */
export function findTenantConflicts(tenants: readonly RdmaTenant[]): TenantConflict[] {
  const claims = new Map<string, Set<string>>();
  const claim = (field: TenantConflict['field'], value: string, tenant: string) => {
    const key = `${field}\u0000${value}`;
    let set = claims.get(key);
    if (set === undefined) claims.set(key, (set = new Set()));
    set.add(tenant);
  };
  for (const t of tenants) {
    const name = t.metadata.name ?? '';
    for (const ns of t.spec.namespaces ?? []) claim('namespace', ns, name);
    const pkey = t.spec.infiniband === undefined ? undefined : parsePkey(t.spec.infiniband.pkey);
    if (pkey !== undefined) claim('pkey', `0x${pkey.toString(16).padStart(4, '0')}`, name);
    if (t.spec.roce !== undefined) claim('vlan', String(t.spec.roce.vlan), name);
  }
  const out: TenantConflict[] = [];
  for (const [key, set] of claims) {
    if (set.size < 2) continue;
    const [field, value] = key.split('\u0000') as [TenantConflict['field'], string];
    out.push({ field, value, tenants: [...set].sort() });
  }
  return out.sort((a, b) => (a.field + a.value < b.field + b.value ? -1 : 1));
}
