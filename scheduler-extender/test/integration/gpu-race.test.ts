/**
 * GPUs promised by reservations are exclusive across extender replicas (docs/adr/0073): three
 * replicas (separate apps, each with its own Redis connections and ledger mirror) bind GPU pods
 * onto one node. The reserve script refuses a GPU another live reservation holds (GPU_TAKEN) and
 * bind plans again without the GPUs the ledger promises there, so no GPU is ever promised twice and
 * every pod gets GPUs of its own. Once with the replicas' event streams stopped (each mirror sees
 * only its own reservations: every race is lost at first, deterministically), once racing
 * concurrently as deployed, on a single Redis and on a 3-master Redis Cluster.
 */
import type { Reservation } from '@rdmasched/contracts';
import { describe, expect, it } from 'vitest';
import { makeReport } from '../../src/testing/builders.js';
import {
  bindOver,
  clusterRedis,
  createPod,
  podNode,
  singleRedis,
  tenantObject,
  type Connections,
  type Replica,
} from './replica.js';
import { useRedisCluster, withReplicas } from './fixture.js';

const NODE = 'gpu-node';
const GPUS = 8;

const cluster = useRedisCluster();

async function gpuTaken(r: Replica): Promise<number> {
  const m = await r.registry.getSingleMetric('rdmasched_extender_bind_gpu_taken_total')?.get();
  return m?.values.reduce((s, v) => s + v.value, 0) ?? 0;
}

/**
 * Binds `GPUS` one-GPU pods onto one node with 8 GPUs through three replicas; returns what the
 * replicas answered and the ledger's records. `lagging`: the replicas stop following the ledger's
 * event stream first and bind one pod after the other, round robin.
 */
async function race(
  conns: Connections,
  lagging: boolean,
): Promise<{ errors: string[]; records: Reservation[]; retries: number; promises: Map<string, string> }> {
  const setup = {
    namespaces: [{ name: 'ml-train' }],
    tenants: [tenantObject('ml', { namespaces: ['ml-train'] })],
    // Two PCIe switches, each with four GPUs and one IB PF of 16 ready VFs.
    reports: [
      makeReport(NODE)
        .reportedAtMs(Date.now())
        .gpus(GPUS / 2, { switch: 'a' })
        .pf({ numVfs: 16, configured: 16, maxVfs: 16, at: { switch: 'a' } })
        .gpus(GPUS / 2, { switch: 'b' })
        .pf({ numVfs: 16, configured: 16, maxVfs: 16, at: { switch: 'b' } })
        .build(),
    ],
    count: 3,
  };
  return withReplicas(conns, setup, async ({ fake, keys, admin, replicas }) => {
    if (lagging) for (const r of replicas) await r.stopFollowingLedger();
    const pods = Array.from({ length: GPUS }, (_, i) =>
      createPod(fake, { namespace: 'ml-train', name: `gpu-${i}`, ib: 1, gpus: 1 }),
    );
    // Sample the promises while the replicas race: never more entries than reservations hold.
    const violations: string[] = [];
    const refusals: string[] = [];
    let racing = true;
    const sampler = (async () => {
      while (racing) {
        const owners = await admin.hgetall(keys.nodeGpus(NODE));
        const perPod = new Map<string, number>();
        for (const owner of Object.values(owners)) perPod.set(owner, (perPod.get(owner) ?? 0) + 1);
        for (const [owner, n] of perPod) if (n > 1) violations.push(`${owner} holds ${n} GPUs`);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const errors: string[] = [];
    if (lagging) {
      for (const [i, p] of pods.entries()) errors.push(await bindOver(replicas[i % 3] as Replica, p, NODE));
    } else {
      errors.push(...(await Promise.all(pods.map((p, i) => bindOver(replicas[i % 3] as Replica, p, NODE)))));
      // A bind that kept losing the race (refused after GPU_TAKEN_RETRIES new plans) fails, and
      // kube-scheduler retries the pod: so does this, through another replica, a few rounds.
      for (let round = 1; round <= 5 && errors.some((e) => e !== ''); round++) {
        for (const e of errors) if (e !== '') refusals.push(e);
        const again = await Promise.all(
          pods.map((p, i) =>
            errors[i] === '' ? Promise.resolve('') : bindOver(replicas[(i + round) % 3] as Replica, p, NODE),
          ),
        );
        again.forEach((e, i) => (errors[i] = e));
      }
    }
    racing = false;
    await sampler;
    for (const r of replicas) await r.x.bind?.settled();
    expect(violations).toEqual([]);
    for (const [i, p] of pods.entries())
      expect(podNode(fake, p.namespace, p.name)).toBe(errors[i] === '' ? NODE : undefined);
    const records = await (replicas[0] as Replica).ledger.list();
    let retries = 0;
    for (const r of replicas) retries += await gpuTaken(r);
    const promises = new Map(Object.entries(await admin.hgetall(keys.nodeGpus(NODE))));
    expect(records.map((r) => r.podUid).sort()).toEqual(
      pods
        .filter((_, i) => errors[i] === '')
        .map((p) => p.uid)
        .sort(),
    );
    // The only failures the race may cause: binds whose plans kept being taken.
    for (const e of refusals)
      expect(e).toMatch(/^RESERVATION_REFUSED: GPU_TAKEN: GPU \S+ is promised to pod /);
    return { errors, records, retries, promises };
  });
}

/** Every reservation names one GPU, no GPU twice, and the ledger promises exactly those. */
function expectExclusive(records: readonly Reservation[], promises: ReadonlyMap<string, string>): void {
  const named = records.flatMap((r) => r.gpus.map((g) => [g, r.podUid] as const));
  for (const r of records) expect(r.gpus).toHaveLength(1);
  expect(new Set(named.map(([g]) => g)).size).toBe(named.length);
  expect(new Map(named)).toEqual(promises);
}

describe('three replicas binding GPU pods onto one node', () => {
  it('with lagging mirrors: each refused plan (GPU_TAKEN) is planned again, every pod gets a GPU of its own', async () => {
    const { errors, records, retries, promises } = await race(singleRedis(), true);
    expect(errors).toEqual(Array.from({ length: GPUS }, () => ''));
    expect(records).toHaveLength(GPUS);
    expectExclusive(records, promises);
    // The replicas did not see each other's reservations: the ledger refused their plans.
    expect(retries).toBeGreaterThan(0);
  });

  it('racing on a single Redis: no GPU promised twice, every pod bound with distinct GPUs', async () => {
    const { errors, records, promises } = await race(singleRedis(), false);
    expect(errors).toEqual(Array.from({ length: GPUS }, () => ''));
    expectExclusive(records, promises);
  });

  it('racing on a 3-master Redis Cluster: the same', async () => {
    const { errors, records, promises } = await race(clusterRedis(cluster.nodes), false);
    expect(errors).toEqual(Array.from({ length: GPUS }, () => ''));
    expectExclusive(records, promises);
  });
});
