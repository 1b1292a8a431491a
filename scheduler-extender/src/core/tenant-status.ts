/**
 * The status the extender keeps true on each RdmaTenant (crds/README.md): usage per link type and
 * pods holding VFs (from the ledger: reserved at bind, or in use), the generation it was computed
 * from, and the conditions Ready, Conflict and QuotaExhausted. Pure: the previous status is
 * passed in so a condition keeps its lastTransitionTime while its status does not change.
 */
import { LINK_TYPES } from '@rdmasched/contracts';
import { CONDITION_TYPES, type Condition, type RdmaTenantStatus, type TenantConflict } from '@rdmasched/crds';
import type { TenantUsage } from './ledger-mirror.js';
import type { TenantInfo } from './tenant-catalog.js';

export interface TenantStatusInput {
  readonly tenant: TenantInfo;
  readonly usage: TenantUsage;
  /** Every conflict between tenants (findTenantConflicts); those naming this tenant count. */
  readonly conflicts: readonly TenantConflict[];
  /** Namespaces this tenant claims that another tenant wins or shares (by selector). */
  readonly disputed: ReadonlyMap<string, readonly string[]>;
  readonly previous: RdmaTenantStatus | undefined;
  /** RFC 3339, second precision (metav1.Time). */
  readonly nowIso: string;
}

function condition(
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
  input: TenantStatusInput,
): Condition {
  const before = input.previous?.conditions?.find((c) => c.type === type);
  return {
    type,
    status,
    observedGeneration: input.tenant.generation,
    lastTransitionTime:
      before !== undefined && before.status === status ? before.lastTransitionTime : input.nowIso,
    reason,
    message,
  };
}

export function tenantStatus(input: TenantStatusInput): RdmaTenantStatus {
  const { tenant, usage } = input;
  const mine = input.conflicts.filter((c) => c.tenants.includes(tenant.name));
  const disputed = [...input.disputed].filter(([, names]) => names.includes(tenant.name));
  const conflictText = [
    ...mine.map(
      (c) =>
        `${c.field} ${c.value} is also claimed by ${c.tenants.filter((t) => t !== tenant.name).join(', ')}`,
    ),
    ...disputed
      .filter(([ns]) => !mine.some((c) => c.field === 'namespace' && c.value === ns))
      .map(([ns, names]) => `namespace ${ns} is matched by ${names.join(', ')} (owner: ${names[0] ?? ''})`),
  ];
  const exhausted = LINK_TYPES.filter((t) => {
    const q = tenant.quota[t];
    return tenant.allowedLinkTypes.has(t) && q !== undefined && usage[t] >= q;
  });
  const reasonOfConflict =
    mine.length === 0
      ? 'NamespaceOverlap'
      : mine[0]?.field === 'pkey'
        ? 'PKeyShared'
        : mine[0]?.field === 'vlan'
          ? 'VlanShared'
          : 'NamespaceClaimed';
  const conditions: Condition[] = [
    conflictText.length === 0
      ? condition(CONDITION_TYPES.ready, 'True', 'Accepted', 'the tenant is in use as written', input)
      : condition(CONDITION_TYPES.ready, 'False', 'Conflict', conflictText.join('; '), input),
    conflictText.length === 0
      ? condition(
          CONDITION_TYPES.conflict,
          'False',
          'NoConflict',
          'no other tenant claims its namespaces, PKey or VLAN',
          input,
        )
      : condition(CONDITION_TYPES.conflict, 'True', reasonOfConflict, conflictText.join('; '), input),
    exhausted.length === 0
      ? condition(CONDITION_TYPES.quotaExhausted, 'False', 'WithinQuota', 'usage is below quota', input)
      : condition(
          CONDITION_TYPES.quotaExhausted,
          'True',
          'QuotaReached',
          exhausted.map((t) => `${t}: ${usage[t]} of ${tenant.quota[t] ?? 0} VFs in use`).join('; '),
          input,
        ),
  ];
  return {
    observedGeneration: tenant.generation,
    usage: { ib: usage.ib, roce: usage.roce },
    podsHoldingVfs: usage.pods,
    conditions,
  };
}

/** Same status, ignoring transition times (a write that changes only those is skipped). */
export function sameTenantStatus(a: RdmaTenantStatus | undefined, b: RdmaTenantStatus): boolean {
  if (a === undefined) return false;
  const strip = (s: RdmaTenantStatus) =>
    JSON.stringify({
      ...s,
      conditions: (s.conditions ?? [])
        .map((c) => ({ ...c, lastTransitionTime: '' }))
        .sort((x, y) => (x.type < y.type ? -1 : 1)),
    });
  return strip(a) === strip(b);
}
