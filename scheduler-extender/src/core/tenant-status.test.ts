import type { RdmaTenant } from '@rdmasched/crds';
import { describe, expect, it } from 'vitest';
import { tenantInfo } from './tenant-catalog.js';
import { sameTenantStatus, tenantStatus } from './tenant-status.js';

const t = tenantInfo({
  apiVersion: 'rdmasched.io/v1alpha1',
  kind: 'RdmaTenant',
  metadata: { name: 'ml', generation: 3 },
  spec: { namespaces: ['a'], allowedLinkTypes: ['ib'], quota: { ib: 4 }, infiniband: { pkey: '0x0a01' } },
} satisfies RdmaTenant);

describe('tenantStatus', () => {
  it('usage, pods, generation and the three conditions; transition times move only on a change', () => {
    const first = tenantStatus({
      tenant: t,
      usage: { ib: 2, roce: 0, pods: 1 },
      conflicts: [],
      disputed: new Map(),
      previous: undefined,
      nowIso: '2026-11-27T10:00:00Z',
    });
    expect(first).toMatchObject({ observedGeneration: 3, usage: { ib: 2, roce: 0 }, podsHoldingVfs: 1 });
    expect(first.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Accepted'],
      ['Conflict', 'False', 'NoConflict'],
      ['QuotaExhausted', 'False', 'WithinQuota'],
    ]);
    const full = tenantStatus({
      tenant: t,
      usage: { ib: 4, roce: 0, pods: 2 },
      conflicts: [{ field: 'pkey', value: '0x0a01', tenants: ['ml', 'other'] }],
      disputed: new Map(),
      previous: first,
      nowIso: '2026-11-27T10:05:00Z',
    });
    const byType = new Map(full.conditions?.map((c) => [c.type, c]));
    expect(byType.get('QuotaExhausted')).toMatchObject({
      status: 'True',
      message: 'ib: 4 of 4 VFs in use',
      lastTransitionTime: '2026-11-27T10:05:00Z',
    });
    expect(byType.get('Conflict')).toMatchObject({
      status: 'True',
      reason: 'PKeyShared',
      message: 'pkey 0x0a01 is also claimed by other',
    });
    expect(byType.get('Ready')).toMatchObject({ status: 'False', reason: 'Conflict' });
    expect(sameTenantStatus(first, full)).toBe(false);
    const again = tenantStatus({
      tenant: t,
      usage: { ib: 2, roce: 0, pods: 1 },
      conflicts: [],
      disputed: new Map(),
      previous: first,
      nowIso: '2026-11-27T11:00:00Z',
    });
    expect(again.conditions?.[0]?.lastTransitionTime).toBe('2026-11-27T10:00:00Z');
    expect(sameTenantStatus(first, again)).toBe(true);
  });
});
