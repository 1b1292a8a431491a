/**
 * The bind verb end to end: real Redis (REDIS_URL), the fake kube-apiserver through client-node,
 * the replica composed as in production. Covers the happy path and its annotations, idempotent
 * retries, the API's 409 and outages (the reservation is released), pod deletion and completion
 * (released by the informer), an extender killed mid-bind (reconcile leaves nothing behind), and
 * the tenancy rules as filter and bind apply them.
 */
import {
  ANNOTATIONS,
  type ProvisionRequest,
  type ProvisionResult,
  type RedisKeys,
} from '@rdmasched/contracts';
import { InMemoryProvisioningChannel } from '../../src/adapters/memory/in-memory-provisioning.js';
import { POD_RESOURCE } from '@rdmasched/testkit';
import { describe, expect, it } from 'vitest';
import { makeReport } from '../../src/testing/builders.js';
import { waitFor } from './agent-writer.js';
import {
  bindOver,
  createPod,
  newKeys,
  publishNode,
  tenantObject,
  type Replica,
  type ReplicaOptions,
} from './replica.js';
import { useFakeApi } from './fixture.js';

// A fresh API server per test: reconcile reads every pod of the scheduler.
const api = useFakeApi(
  [{ name: 'ml-train' }, { name: 'storage', labels: { team: 'storage' } }, { name: 'lonely' }],
  [
    tenantObject('ml', {
      namespaces: ['ml-train'],
      allowedLinkTypes: ['ib'],
      quota: { ib: 3 },
      infiniband: { pkey: '0x0a01' },
    }),
    tenantObject('store', { namespaceSelector: { matchLabels: { team: 'storage' } }, roce: { vlan: 300 } }),
  ],
  { podTermination: 'immediate' },
);
const { conns } = api;

async function setup(opts: Partial<ReplicaOptions> = {}) {
  const keys = newKeys();
  const admin = conns.client();
  const now = Date.now();
  await publishNode(
    admin,
    keys,
    makeReport('node-a')
      .reportedAtMs(now)
      .pf({ numVfs: 4, configured: 4, maxVfs: 4 })
      .pf({ linkType: 'roce', numVfs: 2, maxVfs: 2 })
      .build(),
  );
  const r = await api.replica({ keys, ...opts });
  await r.ready();
  await waitFor(() => r.x.snapshot.get('node-a') !== undefined, 'node-a in the snapshot');
  return { r, keys, admin };
}

/** One replica, following the ledger, that knows `gpu-node`: 2 GPUs and one PF with 4 ready IB VFs under one switch. */
async function gpuNodeReplica(): Promise<{ r: Replica; keys: RedisKeys }> {
  const keys = newKeys();
  await publishNode(
    conns.client(),
    keys,
    makeReport('gpu-node')
      .reportedAtMs(Date.now())
      .gpus(2, { switch: 'a' })
      .pf({ numVfs: 4, configured: 4, maxVfs: 4, at: { switch: 'a' } })
      .build(),
  );
  const r = await api.replica({ keys });
  await r.ready();
  await waitFor(() => r.x.snapshot.get('gpu-node') !== undefined, 'gpu-node');
  return { r, keys };
}

const reserved = async (r: Replica, node: string) =>
  Object.fromEntries(
    Object.entries(await r.redis.hgetall(r.keys.nodeReserved(node))).map(([k, v]) => [k, Number(v)]),
  );

describe('bind', () => {
  it('reserves, binds with the reservation and PKey annotations, and marks the reservation bound', async () => {
    const { r } = await setup();
    const pod = createPod(api.fake, { namespace: 'ml-train', name: 'trainer-0', ib: 2 });
    expect(await bindOver(r, pod, 'node-a')).toBe('');
    const stored = api.fake.store.get(POD_RESOURCE, 'ml-train', 'trainer-0') as {
      spec: { nodeName?: string };
      metadata: { annotations?: Record<string, string> };
    };
    expect(stored.spec.nodeName).toBe('node-a');
    const annotation = JSON.parse(stored.metadata.annotations?.[ANNOTATIONS.reservation] ?? '{}') as Record<
      string,
      unknown
    >;
    expect(annotation).toMatchObject({ podUid: pod.uid, node: 'node-a', tenant: 'ml', state: 'bound' });
    expect(stored.metadata.annotations?.[ANNOTATIONS.ibPkey]).toBe('0x0a01');
    expect(stored.metadata.annotations?.[ANNOTATIONS.roceVlan]).toBeUndefined();
    // Marked bound right after the answer.
    await r.x.bind?.settled();
    expect(await r.ledger.get(pod.uid)).toMatchObject({
      state: 'bound',
      node: 'node-a',
      pfs: [{ count: 2 }],
    });
    await waitFor(() => r.x.mirror.tenantUsage('ml').ib === 2, 'mirror follows the bind');
    // A retried bind is a no-op: nothing reserved twice.
    expect(await bindOver(r, pod, 'node-a')).toBe('');
    expect(Object.values(await reserved(r, 'node-a'))).toEqual([2]);
    // ... and binding it elsewhere is refused.
    expect(await bindOver(r, pod, 'node-b')).toMatch(/^ALREADY_BOUND: /);
  });

  it('pods bound back to back are planned onto different GPUs before the report shows the first one allocated', async () => {
    const { r } = await gpuNodeReplica();
    const gpuPod = (name: string) => createPod(api.fake, { namespace: 'ml-train', name, ib: 1, gpus: 1 });
    const a = gpuPod('gpu-a');
    const b = gpuPod('gpu-b');
    expect(await bindOver(r, a, 'gpu-node')).toBe('');
    await waitFor(() => r.x.mirror.reservation(a.uid) !== undefined, 'a mirrored');
    expect(await bindOver(r, b, 'gpu-node')).toBe('');
    const ga = (await r.ledger.get(a.uid))?.gpus;
    const gb = (await r.ledger.get(b.uid))?.gpus;
    expect(ga).toHaveLength(1);
    expect(gb).toHaveLength(1);
    expect(gb).not.toEqual(ga);
    // A third GPU pod finds no free GPU until one of them is admitted or released.
    const c = gpuPod('gpu-c');
    await waitFor(() => r.x.mirror.reservation(b.uid) !== undefined, 'b mirrored');
    expect(await bindOver(r, c, 'gpu-node')).toBe(
      'NODE_CANNOT_HOST: node gpu-node cannot host the pod now: too few free GPUs now',
    );
  });

  it("a replica plans the next pod with its own reservation before the ledger's event stream delivers it", async () => {
    const { r } = await gpuNodeReplica();
    // As if the stream lagged: from here on the mirror sees only what the replica applies itself.
    await r.stopFollowingLedger();
    const a = createPod(api.fake, { namespace: 'ml-train', name: 'lag-a', ib: 1, gpus: 1 });
    const b = createPod(api.fake, { namespace: 'ml-train', name: 'lag-b', ib: 1, gpus: 1 });
    expect(await bindOver(r, a, 'gpu-node')).toBe('');
    expect(r.x.mirror.reservation(a.uid)?.gpus).toEqual((await r.ledger.get(a.uid))?.gpus);
    expect(await bindOver(r, b, 'gpu-node')).toBe('');
    const ga = (await r.ledger.get(a.uid))?.gpus;
    const gb = (await r.ledger.get(b.uid))?.gpus;
    expect(ga).toHaveLength(1);
    expect(gb).toHaveLength(1);
    expect(gb).not.toEqual(ga);
  });

  it("two binds racing onto one node plan one after the other: the second sees the first one's GPUs", async () => {
    const { r } = await gpuNodeReplica();
    await r.stopFollowingLedger();
    const pods = ['race-a', 'race-b'].map((name) =>
      createPod(api.fake, { namespace: 'ml-train', name, ib: 1, gpus: 1 }),
    );
    // Both requests are in flight at once, as kube-scheduler's binding cycles run in the background.
    expect(await Promise.all(pods.map((p) => bindOver(r, p, 'gpu-node')))).toEqual(['', '']);
    const gpus = await Promise.all(pods.map(async (p) => (await r.ledger.get(p.uid))?.gpus));
    expect(gpus[0]).toHaveLength(1);
    expect(gpus[1]).toHaveLength(1);
    expect(gpus[1]).not.toEqual(gpus[0]);
  });

  it('a reservation is in the mirror while the ledger writes it, and gone again when the ledger refuses it', async () => {
    const { r } = await gpuNodeReplica();
    await r.stopFollowingLedger();
    const ok = createPod(api.fake, { namespace: 'ml-train', name: 'assumed-a', ib: 1, gpus: 1 });
    const refused = createPod(api.fake, { namespace: 'ml-train', name: 'assumed-b', ib: 1, gpus: 1 });
    const seen: (readonly string[] | undefined)[] = [];
    const write = r.ledger.reserve.bind(r.ledger);
    r.ledger.reserve = async (res, quota, opts) => {
      // What filter and prioritize would read while the ledger's answer is on its way.
      seen.push(r.x.mirror.reservation(res.podUid)?.gpus);
      if (res.podUid === refused.uid) return { kind: 'rejected', code: 'CAPACITY', message: 'test' };
      return write(res, quota, opts);
    };
    expect(await bindOver(r, ok, 'gpu-node')).toBe('');
    expect(await bindOver(r, refused, 'gpu-node')).toMatch(/^RESERVATION_REFUSED: /);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toHaveLength(1);
    expect(seen[1]).toHaveLength(1);
    expect(seen[1]).not.toEqual(seen[0]);
    expect(r.x.mirror.reservation(ok.uid)).toBeDefined();
    expect(r.x.mirror.reservation(refused.uid)).toBeUndefined();
    expect(r.x.mirror.forNode('gpu-node').reservedGpus?.size).toBe(1);
  });

  it('writes the RoCE VLAN of the tenant for pods with RoCE VFs', async () => {
    const { r } = await setup();
    const pod = createPod(api.fake, { namespace: 'storage', name: 'ceph-0', roce: 1 });
    expect(await bindOver(r, pod, 'node-a')).toBe('');
    const stored = api.fake.store.get(POD_RESOURCE, 'storage', 'ceph-0') as {
      metadata: { annotations?: Record<string, string> };
    };
    expect(stored.metadata.annotations?.[ANNOTATIONS.roceVlan]).toBe('300');
  });

  it('a 409 from the API releases the reservation and says so', async () => {
    const { r } = await setup();
    const pod = createPod(api.fake, { namespace: 'ml-train', name: 'conflict-0', ib: 1 });
    api.fake.injectFault({
      method: 'POST',
      path: /\/pods\/conflict-0\/binding$/,
      status: 409,
      message: 'pod conflict-0 is already assigned to node "x"',
    });
    const error = await bindOver(r, pod, 'node-a');
    expect(error).toMatch(/^BINDING_CONFLICT: .*already assigned/);
    expect(await r.ledger.get(pod.uid)).toBeUndefined();
    expect(await reserved(r, 'node-a')).toEqual({});
    expect(await r.registry.getSingleMetricAsString('rdmasched_extender_releases_total')).toContain(
      'cause="bind_failed"} 1',
    );
  });

  it('an API outage during the Binding releases the reservation', async () => {
    const { r } = await setup();
    const pod = createPod(api.fake, { namespace: 'ml-train', name: 'outage-0', ib: 1 });
    api.fake.injectFault({ method: 'POST', path: /\/pods\/outage-0\/binding$/, status: 503 });
    expect(await bindOver(r, pod, 'node-a')).toMatch(/^BINDING_FAILED: /);
    expect(await r.ledger.get(pod.uid)).toBeUndefined();
  });

  it('an agent that answers rejected or failed makes bind fail with its code, and releases', async () => {
    const answers: ProvisionResult[] = [];
    const provisioning = new InMemoryProvisioningChannel(() => ({
      results: answers,
      push(raw: string) {
        const q = JSON.parse(raw) as ProvisionRequest;
        answers.push({
          id: q.id,
          node: q.node,
          pfPciAddress: q.pfPciAddress,
          status: 'failed',
          readyVfs: 0,
          code: 'HOST_WRITE_FAILED',
          message: 'write of sriov_numvfs failed: EIO',
          finishedAtMs: Date.now(),
        });
      },
    }));
    const keys = newKeys();
    const admin = conns.client();
    // An idle IB PF: the bind must ask the agent.
    await publishNode(
      admin,
      keys,
      makeReport('node-p').reportedAtMs(Date.now()).pf({ numVfs: 0, maxVfs: 8 }).build(),
    );
    const r = await api.replica({ keys, provisioning });
    await r.ready();
    await waitFor(() => r.x.snapshot.get('node-p') !== undefined, 'node-p');
    const pod = createPod(api.fake, { namespace: 'ml-train', name: 'prov-0', ib: 2 });
    expect(await bindOver(r, pod, 'node-p')).toMatch(
      /^PROVISIONING_FAILED: agent of node-p answered failed for PF .*: HOST_WRITE_FAILED: write of sriov_numvfs failed: EIO$/,
    );
    expect(await r.ledger.get(pod.uid)).toBeUndefined();
    expect(await reserved(r, 'node-p')).toEqual({});
    // The claim the reservation took stays until the agent releases it (only the agent removes claims).
    expect((await r.ledger.claims('node-p')).size).toBe(1);
  });

  it('refuses what the ledger refuses (quota, capacity) without leaving anything', async () => {
    const { r } = await setup();
    const a = createPod(api.fake, { namespace: 'ml-train', name: 'quota-a', ib: 2 });
    const b = createPod(api.fake, { namespace: 'ml-train', name: 'quota-b', ib: 2 });
    expect(await bindOver(r, a, 'node-a')).toBe('');
    expect(await bindOver(r, b, 'node-a')).toBe(
      'RESERVATION_REFUSED: QUOTA: tenant quota for ib VFs exceeded: 2 in use + 2 requested > quota 3',
    );
    const big = createPod(api.fake, { namespace: 'storage', name: 'too-big', roce: 3 });
    expect(await bindOver(r, big, 'node-a')).toMatch(
      /^NODE_CANNOT_HOST: node node-a cannot host the pod now: /,
    );
    expect(Object.values(await reserved(r, 'node-a'))).toEqual([2]);
  });

  it('bind failures before reserving name the cause: missing pod, recreated pod, unknown node, tenancy', async () => {
    const { r } = await setup();
    const pod = createPod(api.fake, { namespace: 'ml-train', name: 'p-0', ib: 1 });
    expect(await bindOver(r, { ...pod, name: 'nope' }, 'node-a')).toMatch(/^POD_NOT_FOUND: /);
    expect(await bindOver(r, { ...pod, uid: 'other-uid' }, 'node-a')).toMatch(/^POD_UID_MISMATCH: /);
    expect(await bindOver(r, pod, 'ghost')).toMatch(/^UNKNOWN_NODE: /);
    const lonely = createPod(api.fake, { namespace: 'lonely', name: 'p-1', ib: 1 });
    expect(await bindOver(r, lonely, 'node-a')).toBe('TENANCY_DENIED: no RdmaTenant owns namespace lonely');
    const wrong = createPod(api.fake, { namespace: 'ml-train', name: 'p-2', roce: 1 });
    expect(await bindOver(r, wrong, 'node-a')).toBe(
      'TENANCY_DENIED: tenant ml may not use RoCE VFs (spec.allowedLinkTypes)',
    );
  });

  it('pod deletion and completion release the reservation (informer)', async () => {
    const { r } = await setup();
    const done = createPod(api.fake, { namespace: 'ml-train', name: 'done-0', ib: 1 });
    const gone = createPod(api.fake, { namespace: 'ml-train', name: 'gone-0', ib: 1 });
    expect(await bindOver(r, done, 'node-a')).toBe('');
    expect(await bindOver(r, gone, 'node-a')).toBe('');
    await waitFor(() => r.x.mirror.size === 2, 'both reservations mirrored');
    api.fake.kubelet.setPodPhase('ml-train', 'done-0', 'Succeeded');
    await api.fake
      .kubeConfig()
      .makeApiClient((await import('@kubernetes/client-node')).CoreV1Api)
      .deleteNamespacedPod({
        name: 'gone-0',
        namespace: 'ml-train',
      });
    await waitFor(() => r.x.mirror.size === 0, 'reservations released');
    expect(await reserved(r, 'node-a')).toEqual({});
    const text = await r.registry.getSingleMetricAsString('rdmasched_extender_releases_total');
    expect(text).toContain('cause="pod_ended"} 1');
    expect(text).toContain('cause="pod_deleted"} 1');
  });

  it('an extender killed after reserving leaves nothing once reconcile ran past the expiry', async () => {
    const clock = {
      now: Date.now(),
      nowMs() {
        return this.now;
      },
    };
    const { r } = await setup({ clock, timings: { reservationTtlMs: 20_000 } });
    const pod = createPod(api.fake, { namespace: 'ml-train', name: 'killed-0', ib: 2 });
    // The API holds the Binding forever: the extender dies while waiting for it.
    let unblock: () => void = () => undefined;
    api.fake.injectFault({
      method: 'POST',
      path: /\/pods\/killed-0\/binding$/,
      until: new Promise<void>((res) => (unblock = res)),
      status: 503,
    });
    const abandoned = bindOver(r, pod, 'node-a');
    await waitFor(() => r.x.mirror.reservation(pod.uid) !== undefined, 'the reservation taken');
    await r.close();
    // A surviving replica's reconcile, before and after the reservation's expiry.
    const survivor = await api.replica({ keys: r.keys, clock, name: 'survivor' });
    await survivor.ready();
    expect((await survivor.x.reconciler?.run())?.expiredReleased).toBe(0);
    clock.now += 21_000;
    expect(await survivor.x.reconciler?.run()).toMatchObject({ expiredReleased: 1, orphansReleased: 0 });
    expect(await survivor.ledger.list()).toEqual([]);
    expect(await reserved(survivor, 'node-a')).toEqual({});
    expect(await survivor.redis.hgetall(survivor.keys.tenantUsage('ml'))).toEqual({});
    unblock();
    await abandoned.catch(() => undefined);
  });

  it('reconcile marks bound the reservation of a pod whose Binding exists, and records a bound pod the ledger lost', async () => {
    const { r } = await setup();
    const a = createPod(api.fake, { namespace: 'ml-train', name: 'crashed-after-binding', ib: 1 });
    expect(await bindOver(r, a, 'node-a')).toBe('');
    await r.x.bind?.settled();
    // Lose the ledger's record of a bound pod (a Redis restarted without persistence, say).
    const record = await r.ledger.get(a.uid);
    await r.ledger.release(a.uid);
    expect(record).toBeDefined();
    const report = await r.x.reconciler?.run();
    expect(report).toMatchObject({ recorded: 1 });
    expect(await r.ledger.get(a.uid)).toMatchObject({ state: 'bound', node: 'node-a', tenant: 'ml' });
  });

  it('reconcile drops GPU promises whose reservation is gone and keeps the live ones', async () => {
    const { r, keys } = await gpuNodeReplica();
    const pod = createPod(api.fake, { namespace: 'ml-train', name: 'promised-0', ib: 1, gpus: 1 });
    expect(await bindOver(r, pod, 'gpu-node')).toBe('');
    const [gpu] = (await r.ledger.get(pod.uid))?.gpus ?? [];
    // A promise left behind by a release that did not know GPU promises (an older extender).
    await r.redis.hset(keys.nodeGpus('gpu-node'), '0000:ee:00.0', 'long-gone-pod');
    expect(await r.x.reconciler?.run()).toMatchObject({ gpuPromisesPruned: 1, orphansReleased: 0 });
    expect(await r.redis.hgetall(keys.nodeGpus('gpu-node'))).toEqual({ [gpu ?? '']: pod.uid });
    const text = await r.registry.getSingleMetricAsString('rdmasched_extender_reconcile_repairs_total');
    expect(text).toContain('kind="gpu_promise_pruned"} 1');
  });
});

describe('filter with tenancy', () => {
  it('rejects every node with the tenancy reason, and counts decisions per tenant', async () => {
    const { r } = await setup();
    const filter = async (pod: Record<string, unknown>) => {
      const res = await r.x.app.inject({
        method: 'POST',
        url: '/filter',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ Pod: pod, NodeNames: ['node-a'] }),
      });
      return JSON.parse(res.body) as {
        NodeNames: string[];
        FailedAndUnresolvableNodes: Record<string, string>;
      };
    };
    const podJson = (ns: string, name: string, extra: Record<string, string> = {}) => {
      const p = createPod(api.fake, { namespace: ns, name, ib: 1, annotations: extra });
      return api.fake.store.get(POD_RESOURCE, p.namespace, p.name) as unknown as Record<string, unknown>;
    };
    expect((await filter(podJson('ml-train', 'f-0'))).NodeNames).toEqual(['node-a']);
    expect((await filter(podJson('lonely', 'f-1'))).FailedAndUnresolvableNodes).toEqual({
      'node-a': 'no RdmaTenant owns namespace lonely',
    });
    expect(
      (await filter(podJson('ml-train', 'f-2', { 'k8s.v1.cni.cncf.io/networks': 'storage/roce-net' })))
        .FailedAndUnresolvableNodes,
    ).toEqual({ 'node-a': "network storage/roce-net is in another tenant's namespace" });
    const metrics = await r.registry.getSingleMetricAsString('rdmasched_extender_tenant_filter_total');
    expect(metrics).toContain('tenant="ml",outcome="feasible",reason="none"} 1');
    expect(metrics).toContain('tenant="(none)",outcome="denied",reason="NO_TENANT"} 1');
    expect(metrics).toContain('tenant="ml",outcome="denied",reason="CROSS_TENANT_NETWORK"} 1');
  });
});
