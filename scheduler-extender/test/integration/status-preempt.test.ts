/**
 * Tenant status written back to the RdmaTenant (usage, pods, conditions, observedGeneration;
 * 409-safe), the leader lock in Redis, and the preempt verb in both of kube-scheduler's modes.
 */
import { POD_RESOURCE, RDMA_TENANT_RESOURCE } from '@rdmasched/testkit';
import type { RdmaTenant } from '@rdmasched/crds';
import { describe, expect, it } from 'vitest';
import { RedisLeaderLock } from '../../src/adapters/redis/redis-leader-lock.js';
import { makeReport } from '../../src/testing/builders.js';
import { waitFor } from './agent-writer.js';
import { bindOver, createPod, newKeys, publishNode, tenantObject, type Replica } from './replica.js';
import { useFakeApi } from './fixture.js';

const api = useFakeApi(
  [{ name: 'a-ns' }, { name: 'b-ns' }, { name: 'c-ns' }],
  [
    tenantObject('alpha', {
      namespaces: ['a-ns'],
      quota: { ib: 2 },
      infiniband: { pkey: '0x0a01' },
      priority: 100,
    }),
    tenantObject('beta', { namespaces: ['b-ns'], priority: 500, crossTenantPreemption: 'LowerPriority' }),
    tenantObject('gamma', { namespaces: ['c-ns'], priority: 500, infiniband: { pkey: '0x0a01' } }),
  ],
);
const { conns } = api;

async function setup(): Promise<Replica> {
  const keys = newKeys();
  await publishNode(
    conns.client(),
    keys,
    makeReport('node-a')
      .reportedAtMs(Date.now())
      .pf({ numVfs: 3, configured: 3, maxVfs: 3, totalVfs: 3 })
      .build(),
  );
  const r = await api.replica({ keys });
  await r.ready();
  await waitFor(() => r.x.snapshot.get('node-a') !== undefined, 'node-a');
  return r;
}

const statusOf = (name: string) =>
  (api.fake.store.get(RDMA_TENANT_RESOURCE, undefined, name) as unknown as RdmaTenant).status;

describe('tenant status', () => {
  it('usage, pods holding VFs, conditions and observedGeneration follow the ledger; a 409 is retried', async () => {
    const r = await setup();
    const a = createPod(api.fake, { namespace: 'a-ns', name: 'a-0', ib: 2 });
    expect(await bindOver(r, a, 'node-a')).toBe('');
    await waitFor(() => r.x.mirror.tenantUsage('alpha').ib === 2, 'usage mirrored');
    api.fake.injectFault({
      method: 'PUT',
      path: '/apis/rdmasched.io/v1alpha1/rdmatenants/alpha/status',
      status: 409,
    });
    r.x.status?.start();
    await waitFor(() => statusOf('alpha')?.usage?.ib === 2, 'alpha status written');
    const s = statusOf('alpha');
    expect(s).toMatchObject({ observedGeneration: 1, usage: { ib: 2, roce: 0 }, podsHoldingVfs: 1 });
    const cond = new Map(s?.conditions?.map((c) => [c.type, c]));
    expect(cond.get('QuotaExhausted')).toMatchObject({ status: 'True', reason: 'QuotaReached' });
    // alpha and gamma share a PKey: both are told.
    expect(cond.get('Conflict')).toMatchObject({
      status: 'True',
      reason: 'PKeyShared',
      message: 'pkey 0x0a01 is also claimed by gamma',
    });
    await waitFor(
      () => statusOf('gamma')?.conditions?.some((c) => c.type === 'Conflict' && c.status === 'True') === true,
      'gamma',
    );
    expect(statusOf('beta')?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // The release shows too.
    await r.ledger.release(a.uid);
    await waitFor(() => statusOf('alpha')?.usage?.ib === 0, 'usage back to 0');
    expect(statusOf('alpha')?.podsHoldingVfs).toBe(0);
    expect(
      await r.registry.getSingleMetricAsString('rdmasched_extender_tenant_status_writes_total'),
    ).toContain('result="written"');
  });
});

describe('leader lock in Redis', () => {
  it('one holder at a time; renewal keeps it, release hands it over, and an unrenewed lease runs out', async () => {
    const keys = newKeys();
    const a = new RedisLeaderLock(conns.client(), keys, 'a');
    const b = new RedisLeaderLock(conns.client(), keys, 'b');
    expect(await a.acquire(10_000)).toBe(true);
    expect(await b.acquire(10_000)).toBe(false);
    expect(await a.acquire(10_000)).toBe(true);
    await b.release();
    expect(await b.acquire(10_000)).toBe(false);
    await a.release();
    expect(await b.acquire(50)).toBe(true);
    await new Promise((res) => setTimeout(res, 120)); // past b's 50 ms lease, which b does not renew
    expect(await a.acquire(10_000)).toBe(true);
  });
});

describe('preempt', () => {
  const preempt = async (r: Replica, body: unknown) => {
    const res = await r.x.app.inject({
      method: 'POST',
      url: '/preempt',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    expect(res.statusCode).toBe(200);
    return JSON.parse(res.body) as {
      NodeNameToMetaVictims: Record<string, { Pods: { UID: string }[]; NumPDBViolations: number }>;
    };
  };

  it('keeps the fewest victims that free the VFs, drops protected tenants, answers in the meta form', async () => {
    const r = await setup();
    const a0 = createPod(api.fake, { namespace: 'a-ns', name: 'a-0', ib: 1 });
    const a1 = createPod(api.fake, { namespace: 'a-ns', name: 'a-1', ib: 1 });
    const g0 = createPod(api.fake, { namespace: 'c-ns', name: 'g-0', ib: 1 });
    for (const p of [a0, a1, g0]) expect(await bindOver(r, p, 'node-a')).toBe('');
    await waitFor(() => r.x.mirror.size === 3, 'reservations mirrored');
    const preemptor = api.fake.store.get(
      POD_RESOURCE,
      'b-ns',
      createPod(api.fake, { namespace: 'b-ns', name: 'b-0', ib: 1 }).name,
    );
    // Meta form (nodeCacheCapable): gamma (same priority as beta) is protected, alpha is lower.
    const meta = await preempt(r, {
      Pod: preemptor,
      NodeNameToMetaVictims: {
        'node-a': { Pods: [{ UID: g0.uid }, { UID: a0.uid }, { UID: a1.uid }], NumPDBViolations: 1 },
      },
    });
    expect(meta).toEqual({
      NodeNameToMetaVictims: { 'node-a': { Pods: [{ UID: a1.uid }], NumPDBViolations: 1 } },
    });
    // Full form: the same answer, and a node where even every victim would not do is dropped.
    const pods = (uids: string[]) => uids.map((uid) => ({ metadata: { uid, namespace: 'a-ns' } }));
    const big = api.fake.store.get(
      POD_RESOURCE,
      'b-ns',
      createPod(api.fake, { namespace: 'b-ns', name: 'b-1', ib: 3 }).name,
    );
    const full = await preempt(r, {
      Pod: big,
      NodeNameToVictims: { 'node-a': { Pods: pods([a0.uid, a1.uid]), NumPDBViolations: 0 } },
    });
    expect(full).toEqual({ NodeNameToMetaVictims: {} });
    const text = await r.registry.getSingleMetricAsString('rdmasched_extender_preempt_nodes_total');
    expect(text).toContain('result="trimmed"} 1');
    expect(text).toContain('result="dropped"} 1');
  });
});
