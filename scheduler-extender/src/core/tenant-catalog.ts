/**
 * Which tenant owns which namespace, from the RdmaTenant objects and the namespaces' labels an
 * informer holds (or a test sets). Pure state: the Kubernetes adapter feeds it, the filter path
 * reads it. Answers are memoised per namespace and forgotten on any change, so the filter does one
 * Map lookup per pod.
 *
 * Tenants are validated with the CRD's own schema (`validateRdmaTenant`, defaults applied); one
 * that fails is left out and reported through `invalid` (the apiserver validated it already, so
 * this only happens with a skewed CRD version).
 */
import { LINK_TYPES, type LinkType } from '@rdmasched/contracts';
import {
  findTenantConflicts,
  parsePkey,
  tenantAllowsLinkType,
  tenantForNamespace,
  tenantQuota,
  validateRdmaTenant,
  type Labels,
  type RdmaTenant,
  type TenantConflict,
} from '@rdmasched/crds';
import type { TenantQuota } from '../ports/ledger.js';

export type CrossTenantPreemption = 'Never' | 'LowerPriority' | 'Any';

/** What the extender uses of one RdmaTenant. */
export interface TenantInfo {
  readonly name: string;
  readonly allowedLinkTypes: ReadonlySet<LinkType>;
  readonly quota: TenantQuota;
  /** InfiniBand partition (15 bits), when set. */
  readonly pkey: number | undefined;
  /** RoCE VLAN ID, when set. */
  readonly vlan: number | undefined;
  readonly priority: number;
  readonly crossTenantPreemption: CrossTenantPreemption;
  /** metadata.generation of the object (status observedGeneration). */
  readonly generation: number;
  /** The validated object, defaults applied. */
  readonly resource: RdmaTenant;
}

export interface NamespaceOwner {
  readonly tenant: TenantInfo | undefined;
  /** Other tenants that also claim the namespace (a Conflict condition on them). */
  readonly alsoClaimedBy: readonly string[];
}

/** Read side, what the filter, bind, preempt and status writer use. */
export interface TenantDirectory {
  /** True once tenants and namespaces were listed (the extender is ready only then). */
  readonly synced: boolean;
  ownerOf(namespace: string): NamespaceOwner;
  tenant(name: string): TenantInfo | undefined;
  tenants(): readonly TenantInfo[];
  /** Claims two tenants cannot both hold (namespace by name, PKey, VLAN). */
  conflicts(): readonly TenantConflict[];
  /** Namespaces whose owner is disputed: namespace -> every tenant claiming it (winner first). */
  disputedNamespaces(): ReadonlyMap<string, readonly string[]>;
  /** Called after every change (tenant or namespace). Returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

export function tenantInfo(t: RdmaTenant): TenantInfo {
  const quota: Record<LinkType, number | undefined> = { ib: undefined, roce: undefined };
  for (const lt of LINK_TYPES) quota[lt] = tenantQuota(t, lt);
  return Object.freeze({
    name: t.metadata.name ?? '',
    allowedLinkTypes: new Set(LINK_TYPES.filter((lt) => tenantAllowsLinkType(t, lt))),
    quota: Object.freeze(quota),
    pkey: t.spec.infiniband === undefined ? undefined : parsePkey(t.spec.infiniband.pkey),
    vlan: t.spec.roce?.vlan,
    priority: t.spec.priority ?? 0,
    crossTenantPreemption: t.spec.crossTenantPreemption ?? 'Never',
    generation: t.metadata.generation ?? 0,
    resource: t,
  });
}

const NO_OWNER: NamespaceOwner = Object.freeze({ tenant: undefined, alsoClaimedBy: [] });

export class TenantCatalog implements TenantDirectory {
  private readonly byName = new Map<string, TenantInfo>();
  private readonly namespaceLabels = new Map<string, Labels>();
  private readonly memo = new Map<string, NamespaceOwner>();
  private readonly listeners = new Set<() => void>();
  private list: TenantInfo[] = [];
  private isSynced = false;

  /** Objects that failed validation, by name (for a log line and a metric). */
  readonly invalid = new Map<string, string>();

  get synced(): boolean {
    return this.isSynced;
  }

  markSynced(): void {
    this.isSynced = true;
    this.changed();
  }

  private changed(): void {
    this.memo.clear();
    this.list = [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const l of this.listeners) l();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds or replaces a tenant (validated). Returns the validation message when it was refused. */
  upsertTenant(object: unknown): string | undefined {
    const v = validateRdmaTenant(object, { unknownFields: 'prune' });
    const name =
      typeof object === 'object' && object !== null
        ? ((object as { metadata?: { name?: unknown } }).metadata?.name ?? undefined)
        : undefined;
    if (!v.ok) {
      if (typeof name === 'string') {
        this.invalid.set(name, v.message);
        if (this.byName.delete(name)) this.changed();
      }
      return v.message;
    }
    const info = tenantInfo(v.value);
    this.invalid.delete(info.name);
    this.byName.set(info.name, info);
    this.changed();
    return undefined;
  }

  deleteTenant(name: string): void {
    this.invalid.delete(name);
    if (this.byName.delete(name)) this.changed();
  }

  /** Replaces every tenant (a relist). */
  replaceTenants(objects: readonly unknown[]): void {
    this.byName.clear();
    this.invalid.clear();
    for (const o of objects) {
      const v = validateRdmaTenant(o, { unknownFields: 'prune' });
      if (v.ok) this.byName.set(v.value.metadata.name ?? '', tenantInfo(v.value));
      else {
        const name = (o as { metadata?: { name?: unknown } } | null)?.metadata?.name;
        if (typeof name === 'string') this.invalid.set(name, v.message);
      }
    }
    this.changed();
  }

  setNamespace(name: string, labels: Labels = {}): void {
    this.namespaceLabels.set(name, { ...labels });
    this.changed();
  }

  deleteNamespace(name: string): void {
    if (this.namespaceLabels.delete(name)) this.changed();
  }

  ownerOf(namespace: string): NamespaceOwner {
    let owner = this.memo.get(namespace);
    if (owner === undefined) {
      // A namespace not seen yet still matches tenants that list it by name.
      const labels = this.namespaceLabels.get(namespace) ?? { 'kubernetes.io/metadata.name': namespace };
      const m = tenantForNamespace(
        this.list.map((t) => t.resource),
        namespace,
        labels,
      );
      const name = m.tenant?.metadata.name;
      owner =
        name === undefined
          ? NO_OWNER
          : Object.freeze({ tenant: this.byName.get(name), alsoClaimedBy: m.alsoClaimedBy });
      this.memo.set(namespace, owner);
    }
    return owner;
  }

  tenant(name: string): TenantInfo | undefined {
    return this.byName.get(name);
  }

  tenants(): readonly TenantInfo[] {
    return this.list;
  }

  conflicts(): readonly TenantConflict[] {
    return findTenantConflicts(this.list.map((t) => t.resource));
  }

  disputedNamespaces(): ReadonlyMap<string, readonly string[]> {
    const out = new Map<string, readonly string[]>();
    for (const ns of this.namespaceLabels.keys()) {
      const o = this.ownerOf(ns);
      if (o.tenant !== undefined && o.alsoClaimedBy.length > 0)
        out.set(ns, [o.tenant.name, ...o.alsoClaimedBy]);
    }
    return out;
  }
}
