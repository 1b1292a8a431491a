import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RdmaTenant, RdmaTenantSpec } from './generated/types.js';
import { findTenantConflicts, tenantAllowsLinkType, tenantForNamespace, tenantQuota } from './tenancy.js';

function makeTenant(name: string, spec: Partial<RdmaTenantSpec>): RdmaTenant {
  return { apiVersion: 'rdmasched.io/v1alpha1', kind: 'RdmaTenant', metadata: { name }, spec };
}

const byName = makeTenant('by-name', { namespaces: ['ml'] });
const bySelector = makeTenant('by-selector', {
  namespaceSelector: { matchLabels: { team: 'ml' } },
  priority: 900,
});
const lowSelector = makeTenant('low-selector', {
  namespaceSelector: { matchLabels: { team: 'ml' } },
  priority: 1,
});
const everything = makeTenant('everything', { namespaceSelector: {} });

describe('tenantForNamespace', () => {
  it('prefers a tenant that lists the namespace by name over any selector, whatever the priority', () => {
    const match = tenantForNamespace([bySelector, byName, lowSelector], 'ml', { team: 'ml' });
    expect(match.tenant?.metadata.name).toBe('by-name');
    expect(match.matchedBy).toBe('name');
    expect(match.alsoClaimedBy).toEqual(['by-selector', 'low-selector']);
  });

  it('among selector matches, takes the higher priority', () => {
    const match = tenantForNamespace([lowSelector, bySelector], 'other', { team: 'ml' });
    expect(match.tenant?.metadata.name).toBe('by-selector');
    expect(match.matchedBy).toBe('selector');
  });

  it('at equal priority, takes the lexically smallest name', () => {
    const b = makeTenant('b', { namespaces: ['x'] });
    const a = makeTenant('a', { namespaces: ['x'] });
    expect(tenantForNamespace([b, a], 'x', {}).tenant?.metadata.name).toBe('a');
  });

  it('returns no tenant when none claims the namespace', () => {
    expect(tenantForNamespace([byName, bySelector], 'kube-system', { team: 'infra' })).toEqual({
      tenant: undefined,
      matchedBy: undefined,
      alsoClaimedBy: [],
    });
  });

  it('an empty selector claims every namespace', () => {
    expect(tenantForNamespace([everything], 'anything', {}).tenant?.metadata.name).toBe('everything');
  });

  it('does not depend on the order of the tenants', () => {
    const all = [byName, bySelector, lowSelector, everything, makeTenant('z', { namespaces: ['ml', 'x'] })];
    fc.assert(
      fc.property(
        fc.shuffledSubarray(all),
        fc.constantFrom('ml', 'x', 'y'),
        fc.boolean(),
        (tenants, ns, labelled) => {
          const labels = labelled ? { team: 'ml' } : {};
          const forward = tenantForNamespace(tenants, ns, labels);
          const backward = tenantForNamespace([...tenants].reverse(), ns, labels);
          expect(backward.tenant?.metadata.name).toBe(forward.tenant?.metadata.name);
          expect(backward.alsoClaimedBy).toEqual(forward.alsoClaimedBy);
        },
      ),
    );
  });
});

describe('tenant link types and quota', () => {
  it('allows both link types by default, and a left-out quota is unlimited', () => {
    const t = makeTenant('t', { namespaces: ['t'], quota: { ib: 4 } });
    expect(tenantAllowsLinkType(t, 'roce')).toBe(true);
    expect(tenantQuota(t, 'ib')).toBe(4);
    expect(tenantQuota(t, 'roce')).toBeUndefined();
  });

  it('gives quota 0 for a link type the tenant may not use', () => {
    const t = makeTenant('t', { namespaces: ['t'], allowedLinkTypes: ['ib'] });
    expect(tenantAllowsLinkType(t, 'roce')).toBe(false);
    expect(tenantQuota(t, 'roce')).toBe(0);
  });
});

describe('findTenantConflicts', () => {
  it('reports namespaces, partitions and VLANs claimed twice (PKeys compared by value)', () => {
    const conflicts = findTenantConflicts([
      makeTenant('a', { namespaces: ['shared', 'a'], infiniband: { pkey: '0x0a01' }, roce: { vlan: 10 } }),
      makeTenant('b', { namespaces: ['shared'], infiniband: { pkey: '0XA01' }, roce: { vlan: 11 } }),
      makeTenant('c', { namespaces: ['c'], roce: { vlan: 10 } }),
    ]);
    expect(conflicts).toEqual([
      { field: 'namespace', value: 'shared', tenants: ['a', 'b'] },
      { field: 'pkey', value: '0x0a01', tenants: ['a', 'b'] },
      { field: 'vlan', value: '10', tenants: ['a', 'c'] },
    ]);
  });

  it('reports nothing for disjoint tenants', () => {
    expect(findTenantConflicts([byName, bySelector])).toEqual([]);
  });
});
