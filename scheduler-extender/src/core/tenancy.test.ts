import type { RdmaTenant } from '@rdmasched/crds';
import { describe, expect, it } from 'vitest';
import { requestOf } from '../testing/views.js';
import { makePod } from '../testing/builders.js';
import { NO_USAGE, type TenantUsage } from './ledger-mirror.js';
import { TenantAdmission, type PodMeta } from './tenancy.js';
import { TenantCatalog } from './tenant-catalog.js';

function tenant(name: string, spec: RdmaTenant['spec']): RdmaTenant {
  return { apiVersion: 'rdmasched.io/v1alpha1', kind: 'RdmaTenant', metadata: { name, generation: 1 }, spec };
}

function catalog(): TenantCatalog {
  const c = new TenantCatalog();
  expect(
    c.upsertTenant(tenant('ml', { namespaces: ['ml-train'], allowedLinkTypes: ['ib'], quota: { ib: 4 } })),
  ).toBeUndefined();
  expect(
    c.upsertTenant(
      tenant('storage', { namespaceSelector: { matchLabels: { team: 'storage' } }, quota: { roce: 2 } }),
    ),
  ).toBeUndefined();
  c.setNamespace('ml-train');
  c.setNamespace('ceph', { team: 'storage' });
  c.setNamespace('lonely');
  c.markSynced();
  return c;
}

function meta(namespace: string, annotations: Record<string, string> = {}): PodMeta {
  return { namespace, name: 'p', uid: 'u', annotations };
}

describe('TenantAdmission', () => {
  const usage = new Map<string, TenantUsage>([['ml', { ib: 3, roce: 0, pods: 2 }]]);
  const admission = (untenanted: 'reject' | 'allow') =>
    new TenantAdmission({ directory: catalog(), usage: (t) => usage.get(t) ?? NO_USAGE, untenanted });
  const ib = (n: number) => requestOf(makePod().vfs('ib', n).build());
  const roce = (n: number) => requestOf(makePod().vfs('roce', n).build());

  it('admits a pod of a tenant within its link types and quota', () => {
    expect(admission('reject').admit(meta('ml-train'), ib(1))).toMatchObject({
      kind: 'allowed',
      tenant: { name: 'ml' },
    });
    expect(admission('reject').admit(meta('ceph'), roce(2))).toMatchObject({
      kind: 'allowed',
      tenant: { name: 'storage' },
    });
  });

  it('rejects with per-pod texts: no tenant, link type not allowed, quota', () => {
    const a = admission('reject');
    const text = (d: ReturnType<typeof a.admit>) =>
      d.kind === 'denied' ? `${d.reason.code}: ${d.reason.text}` : 'allowed';
    expect(text(a.admit(meta('lonely'), ib(1)))).toBe('NO_TENANT: no RdmaTenant owns namespace lonely');
    expect(text(a.admit(meta('ml-train'), roce(1)))).toBe(
      'LINK_TYPE_NOT_ALLOWED: tenant ml may not use RoCE VFs (spec.allowedLinkTypes)',
    );
    expect(text(a.admit(meta('ml-train'), ib(2)))).toBe(
      'QUOTA_EXCEEDED: tenant ml would exceed its InfiniBand VF quota',
    );
    // Bind leaves the quota to the ledger script.
    expect(a.admit(meta('ml-train'), ib(2), { checkQuota: false }).kind).toBe('allowed');
    for (const d of [a.admit(meta('lonely'), ib(1)), a.admit(meta('ml-train'), roce(1))])
      expect(d.kind === 'denied' && d.reason.unresolvable).toBe(true);
  });

  it('allow: pods of no tenant pass with no quota', () => {
    expect(admission('allow').admit(meta('lonely'), ib(64))).toEqual({ kind: 'allowed', tenant: undefined });
  });

  it("rejects a network in another tenant's namespace, in both annotation forms; shared namespaces are fine", () => {
    const a = admission('allow');
    const key = 'k8s.v1.cni.cncf.io/networks';
    const denied = (d: ReturnType<typeof a.admit>) => (d.kind === 'denied' ? d.reason.text : undefined);
    expect(denied(a.admit(meta('ml-train', { [key]: 'ceph/roce-net' }), ib(1)))).toBe(
      "network ceph/roce-net is in another tenant's namespace",
    );
    expect(
      denied(a.admit(meta('ml-train', { [key]: '[{"name":"roce-net","namespace":"ceph"}]' }), ib(1))),
    ).toBe("network ceph/roce-net is in another tenant's namespace");
    // A pod of no tenant may not use a tenant's network either.
    expect(denied(a.admit(meta('lonely', { [key]: 'ml-train/ib-net' }), ib(1)))).toBe(
      "network ml-train/ib-net is in another tenant's namespace",
    );
    expect(a.admit(meta('ml-train', { [key]: 'lonely/shared-net, ib-net' }), ib(1)).kind).toBe('allowed');
    expect(denied(a.admit(meta('ml-train', { [key]: 'a/b/c' }), ib(1)))).toContain('invalid pod request');
  });
});

describe('TenantCatalog', () => {
  it('a namespace listed by name beats a selector; the loser is named; invalid tenants are left out', () => {
    const c = new TenantCatalog();
    c.upsertTenant(tenant('by-label', { namespaceSelector: { matchLabels: { team: 'x' } }, priority: 900 }));
    c.upsertTenant(tenant('by-name', { namespaces: ['ns'] }));
    expect(c.upsertTenant(tenant('bad', { namespaces: ['ns2'], quota: { ib: -1 } }))).toContain(
      '/spec/quota/ib',
    );
    c.setNamespace('ns', { team: 'x' });
    expect(c.ownerOf('ns').tenant?.name).toBe('by-name');
    expect(c.ownerOf('ns').alsoClaimedBy).toEqual(['by-label']);
    expect(c.ownerOf('ns2').tenant).toBeUndefined();
    expect(c.invalid.has('bad')).toBe(true);
    expect(c.disputedNamespaces()).toEqual(new Map([['ns', ['by-name', 'by-label']]]));
    c.deleteTenant('by-name');
    expect(c.ownerOf('ns').tenant?.name).toBe('by-label');
  });
});
