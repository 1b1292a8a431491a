// rdmasched custom resources through CustomObjectsApi: schema validation with the field named,
// defaults, the status subresource, generation, and resourceVersion rules for custom resources.
import {
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { RdmaNodePolicy, RdmaTenant } from '@rdmasched/crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFailure, eventually, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.fake.stop());

const group = 'rdmasched.io';
const version = 'v1alpha1';
const tenants = { group, version, plural: 'rdmatenants' };

function tenant(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'rdmasched.io/v1alpha1',
    kind: 'RdmaTenant',
    metadata: { name },
    spec: { namespaces: [name], quota: { ib: 8 }, ...spec },
  };
}

const createTenant = async (body: Record<string, unknown>) =>
  (await h.custom.createClusterCustomObject({ ...tenants, body })) as RdmaTenant;
const getTenant = async (name: string) =>
  (await h.custom.getClusterCustomObject({ ...tenants, name })) as RdmaTenant;

describe('fake apiserver: rdmasched CRDs', () => {
  it('creates a tenant with the CRD defaults applied and generation 1', async () => {
    const created = await createTenant(tenant('team-a'));
    expect(created.spec).toMatchObject({
      allowedLinkTypes: ['ib', 'roce'],
      priority: 0,
      crossTenantPreemption: 'Never',
    });
    expect(created.metadata.generation).toBe(1);
    const list = (await h.custom.listClusterCustomObject(tenants)) as { kind: string; items: RdmaTenant[] };
    expect(list.kind).toBe('RdmaTenantList');
    expect(list.items.map((t) => t.metadata.name)).toContain('team-a');
  });

  it('rejects an invalid tenant with 422 Invalid, naming each field', async () => {
    const failure = await apiFailure(
      createTenant(tenant('bad', { quota: { ib: -1 }, roce: { vlan: 4095 }, allowedLinkTypes: ['eth'] })),
    );
    expect(failure.code).toBe(422);
    expect(failure.status).toMatchObject({
      kind: 'Status',
      reason: 'Invalid',
      details: { name: 'bad', kind: 'RdmaTenant', group },
    });
    const causes = (failure.status['details'] as { causes: { field: string; message: string }[] }).causes;
    expect(causes.map((c) => c.field).sort()).toEqual([
      'spec.allowedLinkTypes[0]',
      'spec.quota.ib',
      'spec.roce.vlan',
    ]);
    expect(String(failure.status['message'])).toContain('spec.quota.ib: must be >= 0');
  });

  it('rejects an invalid node policy (bad PCI address, PKey-like mistakes) with the field named', async () => {
    const failure = await apiFailure(
      h.custom.createClusterCustomObject({
        group,
        version,
        plural: 'rdmanodepolicies',
        body: {
          apiVersion: 'rdmasched.io/v1alpha1',
          kind: 'RdmaNodePolicy',
          metadata: { name: 'p' },
          spec: { nodeSelector: {}, nicSelector: { pciAddresses: ['3b:00.0'] } },
        },
      }),
    );
    expect(failure.code).toBe(422);
    expect(String(failure.status['message'])).toContain('spec.nicSelector.pciAddresses[0]');
  });

  it('prunes unknown fields with a Warning by default, and rejects them with fieldValidation=Strict', async () => {
    const created = await createTenant(tenant('pruned', { qouta: { ib: 1 } }));
    expect(created.spec).not.toHaveProperty('qouta');
    const strict = await apiFailure(
      h.custom.createClusterCustomObject({
        ...tenants,
        body: tenant('strict', { qouta: { ib: 1 } }),
        fieldValidation: 'Strict',
      }),
    );
    expect(strict.code).toBe(400);
    expect(String(strict.status['message'])).toContain('/spec/qouta');
  });

  it('keeps spec and status apart: status writes do not change spec, spec writes do not change status', async () => {
    const created = await createTenant(tenant('split'));
    const withStatus = (await h.custom.replaceClusterCustomObjectStatus({
      ...tenants,
      name: 'split',
      body: {
        ...created,
        spec: { ...created.spec, quota: { ib: 999 } },
        status: { usage: { ib: 3 }, podsHoldingVfs: 2 },
      },
    })) as RdmaTenant;
    expect(withStatus.status).toEqual({ usage: { ib: 3 }, podsHoldingVfs: 2 });
    expect(withStatus.spec.quota).toEqual({ ib: 8 });
    expect(withStatus.metadata.generation).toBe(1);

    const withSpec = (await h.custom.replaceClusterCustomObject({
      ...tenants,
      name: 'split',
      body: { ...withStatus, spec: { ...withStatus.spec, quota: { ib: 16 } }, status: { usage: { ib: 0 } } },
    })) as RdmaTenant;
    expect(withSpec.spec.quota).toEqual({ ib: 16 });
    expect(withSpec.status).toEqual({ usage: { ib: 3 }, podsHoldingVfs: 2 });
    expect(withSpec.metadata.generation).toBe(2);

    const patched = (await h.custom.patchClusterCustomObjectStatus(
      { ...tenants, name: 'split', body: { status: { usage: { ib: 5 } }, spec: { quota: { ib: 1 } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as RdmaTenant;
    expect(patched.status?.usage).toEqual({ ib: 5 });
    expect(patched.spec.quota).toEqual({ ib: 16 });
  });

  it('validates status writes too', async () => {
    await createTenant(tenant('bad-status'));
    const failure = await apiFailure(
      h.custom.patchClusterCustomObjectStatus(
        { ...tenants, name: 'bad-status', body: { status: { usage: { ib: -3 } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(failure.code).toBe(422);
    expect(String(failure.status['message'])).toContain('status.usage.ib');
  });

  it('refuses an update of a custom resource without resourceVersion (422) or with a stale one (409)', async () => {
    const created = await createTenant(tenant('rv'));
    const noRv = await apiFailure(
      h.custom.replaceClusterCustomObject({
        ...tenants,
        name: 'rv',
        body: { ...created, metadata: { name: 'rv' } },
      }),
    );
    expect(noRv.code).toBe(422);
    await h.custom.replaceClusterCustomObject({
      ...tenants,
      name: 'rv',
      body: { ...created, spec: { ...created.spec, priority: 5 } },
    });
    const stale = await apiFailure(
      h.custom.replaceClusterCustomObject({
        ...tenants,
        name: 'rv',
        body: { ...created, spec: { ...created.spec, priority: 6 } },
      }),
    );
    expect(stale.status).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(String(stale.status['message'])).toContain('rdmatenants.rdmasched.io "rv"');
    expect((await getTenant('rv')).spec.priority).toBe(5);
  });

  it('feeds an informer on rdmatenants', async () => {
    const seen: string[] = [];
    const informer = makeInformer(h.kc, '/apis/rdmasched.io/v1alpha1/rdmatenants', () =>
      h.custom.listClusterCustomObject(tenants),
    );
    informer.on('add', (t: KubernetesObject) => seen.push(`add ${t.metadata?.name ?? ''}`));
    informer.on('update', (t: KubernetesObject) => seen.push(`update ${t.metadata?.name ?? ''}`));
    informer.on('delete', (t: KubernetesObject) => seen.push(`delete ${t.metadata?.name ?? ''}`));
    await informer.start();
    try {
      await createTenant(tenant('watched'));
      await h.custom.patchClusterCustomObject({
        ...tenants,
        name: 'watched',
        body: [{ op: 'replace', path: '/spec/priority', value: 7 }],
      });
      await h.custom.deleteClusterCustomObject({ ...tenants, name: 'watched' });
      await eventually(() => seen.includes('delete watched'), 'the delete');
      expect(seen.filter((s) => s.endsWith(' watched'))).toEqual([
        'add watched',
        'update watched',
        'delete watched',
      ]);
    } finally {
      await informer.stop();
    }
  });

  it('serves node policies with their defaults', async () => {
    const created = (await h.custom.createClusterCustomObject({
      group,
      version,
      plural: 'rdmanodepolicies',
      body: {
        apiVersion: 'rdmasched.io/v1alpha1',
        kind: 'RdmaNodePolicy',
        metadata: { name: 'gpu-ib' },
        spec: { nodeSelector: { matchLabels: { gpu: 'true' } }, linkType: 'ib', warmPool: { ib: {} } },
      },
    })) as RdmaNodePolicy;
    expect(created.spec.priority).toBe(99);
    expect(created.spec.warmPool?.ib).toEqual({ minReady: 0 });
  });
});
