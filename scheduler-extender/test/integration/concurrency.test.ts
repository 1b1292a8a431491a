/**
 * Issue 4's "done when": three extender replicas (separate apps, each with its own Redis
 * connections and ledger mirror) bind pods of several tenants that race for scarce VFs, on a
 * single Redis and on a 3-master Redis Cluster. While they race, Redis is sampled; afterwards the
 * final state is checked: no PF ever holds more VFs than it has, no tenant ever exceeds its quota,
 * the ledger's counters equal its records, every bound pod carries its reservation and every
 * replica's mirror equals the ledger.
 */
import type { Reservation } from '@rdmasched/contracts';
import { POD_RESOURCE } from '@rdmasched/testkit';
import { describe, expect, it } from 'vitest';
import { makeReport } from '../../src/testing/builders.js';
import { waitFor } from './agent-writer.js';
import { bindOver, clusterRedis, createPod, singleRedis, tenantObject, type Connections } from './replica.js';
import { useRedisCluster, withReplicas } from './fixture.js';

const NODES = ['node-0', 'node-1', 'node-2', 'node-3'];
const VFS_PER_PF = 4;
const QUOTA: Record<string, number | undefined> = { alpha: 3, beta: 4, gamma: undefined };

/** A small seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const cluster = useRedisCluster();

async function race(conns: Connections, seed: number): Promise<void> {
  const random = rng(seed);
  const now = Date.now();
  // One IB PF per node, every VF ready, none creatable (maxVfs = numVfs): 16 VFs in all.
  const reports = NODES.map((n) =>
    makeReport(n)
      .reportedAtMs(now)
      .pf({ numVfs: VFS_PER_PF, configured: VFS_PER_PF, maxVfs: VFS_PER_PF, totalVfs: VFS_PER_PF })
      .build(),
  );
  const pfOf = new Map(reports.map((r) => [r.nodeName, r.pfs[0]?.pciAddress ?? '']));
  const setup = {
    namespaces: ['alpha', 'beta', 'gamma'].map((name) => ({ name })),
    tenants: Object.entries(QUOTA).map(([name, ib]) =>
      tenantObject(name, { namespaces: [name], ...(ib === undefined ? {} : { quota: { ib } }) }),
    ),
    reports,
    count: 3,
  };
  await withReplicas(conns, setup, async ({ fake, keys, admin, replicas }) => {
    const pods = Array.from({ length: 36 }, (_, i) => {
      const tenant = ['alpha', 'beta', 'gamma'][i % 3] ?? 'alpha';
      return createPod(fake, { namespace: tenant, name: `pod-${i}`, ib: 1 + Math.floor(random() * 2) });
    });

    // Sample Redis while the replicas race.
    const violations: string[] = [];
    let racing = true;
    const sampler = (async () => {
      while (racing) {
        for (const n of NODES) {
          const h = await admin.hgetall(keys.nodeReserved(n));
          for (const [pf, v] of Object.entries(h))
            if (Number(v) > VFS_PER_PF) violations.push(`${n} ${pf}: ${v} VFs reserved`);
        }
        for (const [t, q] of Object.entries(QUOTA)) {
          const used = Number((await admin.hget(keys.tenantUsage(t), 'ib')) ?? '0');
          if (q !== undefined && used > q) violations.push(`${t}: ${used} > quota ${q}`);
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    })();

    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const results = await Promise.all(
      pods.map(async (pod, i) => {
        const node = pick(NODES);
        // Every fourth pod is bound through two replicas at once (a retried bind racing the first).
        const tries = i % 4 === 0 ? [pick(replicas), pick(replicas)] : [pick(replicas)];
        const errors = await Promise.all(tries.map((r) => bindOver(r, pod, node)));
        let ok = errors.some((e) => e === '');
        if (!ok) ok = (await bindOver(pick(replicas), pod, pick(NODES))) === '';
        return { pod, ok };
      }),
    );
    racing = false;
    await sampler;
    for (const r of replicas) await r.x.bind?.settled();
    expect(violations).toEqual([]);

    // The final state, from Redis.
    const records: Reservation[] = await replicas[0]!.ledger.list();
    const perPf = new Map<string, number>();
    const perTenant = new Map<string, number>();
    for (const r of records) {
      expect(r.state).toBe('bound');
      for (const p of r.pfs) {
        expect(p.pfPciAddress).toBe(pfOf.get(r.node));
        perPf.set(r.node, (perPf.get(r.node) ?? 0) + p.count);
        perTenant.set(r.tenant, (perTenant.get(r.tenant) ?? 0) + p.count);
      }
    }
    for (const n of NODES) {
      expect(perPf.get(n) ?? 0).toBeLessThanOrEqual(VFS_PER_PF);
      const h = await admin.hgetall(keys.nodeReserved(n));
      expect(Number(h[pfOf.get(n) ?? ''] ?? '0')).toBe(perPf.get(n) ?? 0);
      expect(new Set(await admin.smembers(keys.nodeReservations(n)))).toEqual(
        new Set(records.filter((r) => r.node === n).map((r) => r.podUid)),
      );
    }
    for (const [t, q] of Object.entries(QUOTA)) {
      const used = perTenant.get(t) ?? 0;
      if (q !== undefined) expect(used).toBeLessThanOrEqual(q);
      expect(Number((await admin.hget(keys.tenantUsage(t), 'ib')) ?? '0')).toBe(used);
    }
    // Scarcity was real: the VFs are (nearly) all taken and some binds failed.
    expect([...perPf.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(12);
    expect(results.some((r) => !r.ok)).toBe(true);

    // The API agrees: bound pods carry their reservation; pods whose binds all failed are unbound.
    const byUid = new Map(records.map((r) => [r.podUid, r]));
    for (const { pod, ok } of results) {
      const stored = fake.store.get(POD_RESOURCE, pod.namespace, pod.name) as {
        spec: { nodeName?: string };
        metadata: { annotations?: Record<string, string> };
      };
      const r = byUid.get(pod.uid);
      expect(ok).toBe(r !== undefined);
      expect(stored.spec.nodeName).toBe(r?.node);
      if (r !== undefined)
        expect(JSON.parse(stored.metadata.annotations?.['rdmasched.io/reservation'] ?? '{}')).toMatchObject({
          podUid: pod.uid,
          node: r.node,
        });
    }
    // Every replica's mirror converges on the ledger.
    for (const r of replicas) {
      await waitFor(
        () =>
          r.x.mirror.size === records.length &&
          NODES.every(
            (n) => (r.x.mirror.forNode(n).reservedByPf.get(pfOf.get(n) ?? '') ?? 0) === (perPf.get(n) ?? 0),
          ),
        'mirror converged',
      );
      for (const t of Object.keys(QUOTA)) expect(r.x.mirror.tenantUsage(t).ib).toBe(perTenant.get(t) ?? 0);
    }
  });
}

describe('three replicas racing for scarce VFs', () => {
  it('on a single Redis: no VF reserved twice, no quota exceeded', async () => {
    await race(singleRedis(), 20261127);
  });

  it('on a 3-master Redis Cluster: the same', async () => {
    await race(clusterRedis(cluster.nodes), 4242);
  });
});
