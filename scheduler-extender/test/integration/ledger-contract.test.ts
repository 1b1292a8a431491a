/**
 * The ledger contract (ports/ledger.ts), run against every implementation: the in-memory ledger,
 * the Redis ledger on a single Redis (REDIS_URL) and on a 3-master Redis Cluster. The Lua script
 * and the pure rules (core/reserve-rules.ts) must agree case by case, and a mirror fed by each
 * ledger's events must end where the ledger is.
 */
import { randomUUID } from 'node:crypto';
import { RedisKeys, type LedgerEvent, type PfCapacity, type Reservation } from '@rdmasched/contracts';
import { startRedisCluster, type RedisClusterHandle } from '@rdmasched/testkit';
import fc from 'fast-check';
import { Cluster, Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryLedger } from '../../src/adapters/memory/in-memory-ledger.js';
import { RedisLedger } from '../../src/adapters/redis/redis-ledger.js';
import { RedisLedgerMirror } from '../../src/adapters/redis/redis-ledger-mirror.js';
import { LedgerMirror } from '../../src/core/ledger-mirror.js';
import { checkGpus, checkReservation } from '../../src/core/reserve-rules.js';
import { NO_QUOTA, type Ledger, type TenantQuota } from '../../src/ports/ledger.js';
import { waitFor } from './agent-writer.js';

const PF_A = '0000:1a:00.0';
const PF_B = '0000:1b:00.0';
const PF_R = '0000:9e:00.0';
const G0 = '0000:18:00.0';
const G1 = '0000:19:00.0';
const G2 = '0000:3b:00.0';

function cap(over: Partial<PfCapacity> = {}): PfCapacity {
  return {
    linkType: 'ib',
    numVfs: 8,
    maxVfs: 8,
    configured: 8,
    foreignInUse: 0,
    resizing: false,
    portActive: true,
    generation: 1,
    ...over,
  };
}

let seq = 0;
function reservation(over: Partial<Reservation> & { pfs: Reservation['pfs'] }): Reservation {
  seq++;
  return {
    podUid: `uid-${seq}-${randomUUID().slice(0, 8)}`,
    namespace: 'team-a',
    podName: `pod-${seq}`,
    tenant: 'alpha',
    node: 'node-1',
    gpus: [],
    state: 'pending',
    createdAtMs: 1_764_000_000_000,
    expiresAtMs: 1_764_000_060_000,
    ...over,
  };
}

/** What a test needs besides the port: the agent's writes and a look at the stored counts. */
interface Subject {
  readonly ledger: Ledger;
  setCapacity(node: string, pf: string, c: PfCapacity): Promise<void>;
  claim(node: string, pf: string, owner: string): Promise<void>;
  /** Writes a GPU promise directly, as a release by an older extender leaves one behind. */
  promiseGpu(node: string, gpu: string, owner: string): Promise<void>;
  reserved(node: string): Promise<Record<string, number>>;
  usage(tenant: string): Promise<Record<string, number>>;
  /** A mirror fed by this ledger's events; resolves once it is loaded. */
  mirror(): Promise<{ mirror: LedgerMirror; close: () => Promise<void> }>;
  events(): Promise<LedgerEvent[]>;
}

function memorySubject(): Subject {
  const ledger = new InMemoryLedger();
  const caps = new Map<string, Map<string, PfCapacity>>();
  const events: LedgerEvent[] = [];
  ledger.onEvent((e) => events.push(e));
  return {
    ledger,
    setCapacity(node, pf, c) {
      const m = caps.get(node) ?? new Map<string, PfCapacity>();
      m.set(pf, c);
      caps.set(node, m);
      ledger.setCapacity(node, m);
      return Promise.resolve();
    },
    async claim(node, pf, owner) {
      const r = await ledger.takeClaim(node, pf, owner);
      if (!r.ok) throw new Error(r.detail);
    },
    promiseGpu(node, gpu, owner) {
      ledger.setGpuPromise(node, gpu, owner);
      return Promise.resolve();
    },
    reserved: (node) => Promise.resolve(Object.fromEntries(ledger.reservedOn(node))),
    usage: (tenant) => {
      const u = ledger.tenantUsage(tenant);
      return Promise.resolve(Object.fromEntries(Object.entries(u).filter(([, v]) => v > 0)));
    },
    mirror() {
      const mirror = new LedgerMirror();
      const stop = ledger.attach(mirror);
      return Promise.resolve({ mirror, close: () => Promise.resolve(stop()) });
    },
    events: () => Promise.resolve([...events]),
  };
}

function redisSubject(client: Redis | Cluster): Subject {
  const keys = new RedisKeys({ prefix: `lc-${randomUUID().slice(0, 8)}` });
  const ledger = new RedisLedger({ client, keys });
  const numbers = (h: Record<string, string>) =>
    Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  return {
    ledger,
    async setCapacity(node, pf, c) {
      await client.hset(keys.nodeCapacity(node), pf, JSON.stringify(c));
    },
    async claim(node, pf, owner) {
      await client.hset(keys.nodeResizing(node), pf, owner);
    },
    async promiseGpu(node, gpu, owner) {
      await client.hset(keys.nodeGpus(node), gpu, owner);
    },
    reserved: async (node) => numbers(await client.hgetall(keys.nodeReserved(node))),
    usage: async (tenant) => numbers(await client.hgetall(keys.tenantUsage(tenant))),
    async mirror() {
      const mirror = new LedgerMirror();
      const m = new RedisLedgerMirror({
        client,
        keys,
        mirror,
        logger: pino({ level: 'silent' }),
        blockMs: 100,
        retryDelayMs: 50,
      });
      await m.start();
      return { mirror, close: () => m.close() };
    },
    async events() {
      const entries = (await client.xrange(keys.ledgerEvents(), '-', '+')) as [string, string[]][];
      return entries.map(([, f]) => JSON.parse(f[1] ?? '{}') as LedgerEvent);
    },
  };
}

let cluster: RedisClusterHandle | undefined;
const clients: (Redis | Cluster)[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await cluster?.stop();
});

function single(): Redis {
  const url = process.env['REDIS_URL'];
  if (url === undefined || url === '') throw new Error('REDIS_URL is not set (vitest global setup)');
  const c = new Redis(url, { maxRetriesPerRequest: null });
  clients.push(c);
  return c;
}

function clusterClient(): Cluster {
  if (cluster === undefined) throw new Error('no cluster');
  const c = new Cluster(cluster.nodes.map((n) => ({ host: n.host, port: n.port })));
  clients.push(c);
  return c;
}

const SUBJECTS: [string, () => Subject][] = [
  ['in memory', memorySubject],
  ['Redis', () => redisSubject(single())],
  ['Redis Cluster', () => redisSubject(clusterClient())],
];

const QUOTA_4: TenantQuota = { ib: 4, roce: undefined };

describe.each(SUBJECTS)('ledger contract: %s', (_name, make) => {
  it('reserves within the ready VFs: record, counts, node set, usage and one reserved event', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap({ configured: 4 }));
    const r = reservation({
      pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 2 }],
      gpus: ['0000:18:00.0'],
    });
    const out = await s.ledger.reserve(r, QUOTA_4);
    expect(out).toMatchObject({ kind: 'reserved', claims: [], provision: [] });
    expect(await s.ledger.get(r.podUid)).toEqual({ ...r, state: 'pending' });
    expect(await s.reserved('node-1')).toEqual({ [PF_A]: 2 });
    expect(await s.usage('alpha')).toEqual({ ib: 2 });
    const events = await s.events();
    expect(events).toEqual([
      expect.objectContaining({
        type: 'reserved',
        podUid: r.podUid,
        node: 'node-1',
        tenant: 'alpha',
        pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 2 }],
        claims: [],
        gpus: ['0000:18:00.0'],
      }),
    ]);
    const { mirror, close } = await s.mirror();
    expect(mirror.forNode('node-1').reservedGpus).toEqual(new Map([[r.podUid, ['0000:18:00.0']]]));
    await close();
  });

  it('is idempotent per pod UID: the same node answers exists, another node elsewhere, nothing changes', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap({ configured: 4 }));
    await s.setCapacity('node-2', PF_A, cap({ configured: 4 }));
    const r = reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 2 }] });
    await s.ledger.reserve(r, NO_QUOTA);
    const again = await s.ledger.reserve(r, NO_QUOTA);
    expect(again).toMatchObject({ kind: 'exists', provision: [] });
    const other = await s.ledger.reserve({ ...r, node: 'node-2' }, NO_QUOTA);
    expect(other).toMatchObject({ kind: 'elsewhere', reservation: { node: 'node-1' } });
    expect(await s.reserved('node-1')).toEqual({ [PF_A]: 2 });
    expect(await s.reserved('node-2')).toEqual({});
    expect((await s.events()).length).toBe(1);
  });

  it('refuses a reservation beyond the tenant quota and changes nothing', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap());
    expect(
      await s.ledger.reserve(
        reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 3 }] }),
        QUOTA_4,
      ),
    ).toMatchObject({ kind: 'reserved' });
    const over = await s.ledger.reserve(
      reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 2 }] }),
      QUOTA_4,
    );
    expect(over).toEqual({
      kind: 'rejected',
      code: 'QUOTA',
      message: 'tenant quota for ib VFs exceeded: 3 in use + 2 requested > quota 4',
    });
    expect(await s.usage('alpha')).toEqual({ ib: 3 });
    expect(await s.reserved('node-1')).toEqual({ [PF_A]: 3 });
  });

  it('an idle PF takes a resize claim owned by the pod and asks for n ready VFs', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap({ numVfs: 0, configured: 0, maxVfs: 16 }));
    const r = reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 3 }] });
    const out = await s.ledger.reserve(r, NO_QUOTA);
    expect(out).toMatchObject({
      kind: 'reserved',
      claims: [PF_A],
      provision: [{ pfPciAddress: PF_A, minReadyVfs: 3 }],
    });
    expect(await s.ledger.claims('node-1')).toEqual(new Map([[PF_A, r.podUid]]));
    // A second pod cannot reserve on the claimed PF.
    const second = await s.ledger.reserve(
      reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 1 }] }),
      NO_QUOTA,
    );
    expect(second).toMatchObject({ kind: 'rejected', code: 'CLAIMED' });
    // A retried bind of the first pod re-asks for the VFs it is still waiting for.
    expect(await s.ledger.reserve(r, NO_QUOTA)).toMatchObject({
      kind: 'exists',
      provision: [{ pfPciAddress: PF_A, minReadyVfs: 3 }],
    });
  });

  it('a held PF takes configure-only provisioning up to min(numVfs, maxVfs), without a claim', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap({ numVfs: 8, maxVfs: 6, configured: 2, foreignInUse: 1 }));
    const first = reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 1 }] });
    expect(await s.ledger.reserve(first, NO_QUOTA)).toMatchObject({ kind: 'reserved', provision: [] });
    // held 2 (1 reserved + 1 foreign), ready 2: 3 more need configuring, within min(8, 6).
    const second = reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 3 }] });
    expect(await s.ledger.reserve(second, NO_QUOTA)).toMatchObject({
      kind: 'reserved',
      claims: [],
      provision: [{ pfPciAddress: PF_A, minReadyVfs: 5 }],
    });
    const third = await s.ledger.reserve(
      reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 2 }] }),
      NO_QUOTA,
    );
    expect(third).toEqual({
      kind: 'rejected',
      code: 'CAPACITY',
      message: `PF ${PF_A} has 5 VFs held, 2 ready and 6 at most without a resize; 2 more do not fit`,
    });
    // Exactly at the cap: 5 held + 1 = 6.
    const fourth = reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 1 }] });
    expect(await s.ledger.reserve(fourth, NO_QUOTA)).toMatchObject({
      kind: 'reserved',
      provision: [{ pfPciAddress: PF_A, minReadyVfs: 6 }],
    });
    expect(await s.ledger.claims('node-1')).toEqual(new Map());
  });

  it('refuses what ADR 0003 forbids: more than maxVfs on an idle PF, claims, resizing, port down, no summary, wrong link type', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap({ numVfs: 12, maxVfs: 8, configured: 2 }));
    await s.setCapacity('node-1', PF_B, cap({ resizing: true }));
    await s.setCapacity('node-1', PF_R, cap({ linkType: 'roce', portActive: false }));
    await s.setCapacity('node-2', PF_A, cap());
    await s.claim('node-2', PF_A, 'agent');
    const one = (pf: string, count: number, linkType: 'ib' | 'roce' = 'ib', node = 'node-1') =>
      s.ledger.reserve(reservation({ node, pfs: [{ pfPciAddress: pf, linkType, count }] }), NO_QUOTA);
    expect(await one(PF_A, 9)).toEqual({
      kind: 'rejected',
      code: 'CAPACITY',
      message: `PF ${PF_A} can hold at most 8 VFs; 9 requested`,
    });
    expect(await one(PF_B, 1)).toMatchObject({ kind: 'rejected', code: 'RESIZING' });
    expect(await one(PF_R, 1, 'roce')).toMatchObject({ kind: 'rejected', code: 'PORT_DOWN' });
    expect(await one(PF_R, 1, 'ib')).toMatchObject({ kind: 'rejected', code: 'LINK_TYPE' });
    expect(await one('0000:33:00.0', 1)).toMatchObject({ kind: 'rejected', code: 'NO_SUMMARY' });
    expect(await one(PF_A, 1, 'ib', 'node-2')).toEqual({
      kind: 'rejected',
      code: 'CLAIMED',
      message: `PF ${PF_A} has a resize claim (agent)`,
    });
    expect(await s.reserved('node-1')).toEqual({});
    expect((await s.events()).filter((e) => e.type !== 'claimed')).toEqual([]);
  });

  it('a reservation on several PFs is all or nothing', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap({ configured: 8 }));
    await s.setCapacity('node-1', PF_B, cap({ configured: 1, numVfs: 1, maxVfs: 1, foreignInUse: 1 }));
    const out = await s.ledger.reserve(
      reservation({
        pfs: [
          { pfPciAddress: PF_A, linkType: 'ib', count: 2 },
          { pfPciAddress: PF_B, linkType: 'ib', count: 1 },
        ],
      }),
      NO_QUOTA,
    );
    expect(out).toMatchObject({ kind: 'rejected', code: 'CAPACITY' });
    expect(await s.reserved('node-1')).toEqual({});
    expect(await s.usage('alpha')).toEqual({});
  });

  it('release is idempotent, frees counts and usage, and only touches the node it is told', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap());
    const r = reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 2 }] });
    await s.ledger.reserve(r, NO_QUOTA);
    expect(await s.ledger.release(r.podUid, { node: 'node-9' })).toBeUndefined();
    expect(await s.reserved('node-1')).toEqual({ [PF_A]: 2 });
    expect(await s.ledger.release(r.podUid)).toMatchObject({ podUid: r.podUid, node: 'node-1' });
    expect(await s.ledger.release(r.podUid)).toBeUndefined();
    expect(await s.reserved('node-1')).toEqual({});
    expect(await s.usage('alpha')).toEqual({});
    expect(await s.ledger.get(r.podUid)).toBeUndefined();
    expect((await s.events()).map((e) => e.type)).toEqual(['reserved', 'released']);
  });

  it('expiry releases only pending reservations past their expiry', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap());
    const old = reservation({ expiresAtMs: 1000, pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 1 }] });
    const young = reservation({ expiresAtMs: 9000, pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 1 }] });
    const bound = reservation({ expiresAtMs: 1000, pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 1 }] });
    for (const r of [old, young, bound]) await s.ledger.reserve(r, NO_QUOTA);
    expect(await s.ledger.markBound(bound)).toBe(true);
    expect(await s.ledger.expiredPending(5000, 10)).toEqual([old.podUid]);
    expect(await s.ledger.release(bound.podUid, { expiredAtMs: 5000 })).toBeUndefined();
    expect(await s.ledger.release(young.podUid, { expiredAtMs: 5000 })).toBeUndefined();
    expect(await s.ledger.release(old.podUid, { expiredAtMs: 5000 })).toMatchObject({ podUid: old.podUid });
    expect(await s.reserved('node-1')).toEqual({ [PF_A]: 2 });
  });

  it('markBound binds the exact reservation once and refuses a released or replaced one', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap());
    const r = reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 1 }] });
    await s.ledger.reserve(r, NO_QUOTA);
    expect(await s.ledger.markBound(r)).toBe(true);
    expect(await s.ledger.markBound(r)).toBe(true);
    expect((await s.ledger.get(r.podUid))?.state).toBe('bound');
    expect(await s.ledger.markBound({ ...r, createdAtMs: r.createdAtMs + 1 })).toBe(false);
    await s.ledger.release(r.podUid);
    expect(await s.ledger.markBound(r)).toBe(false);
    expect((await s.events()).map((e) => e.type)).toEqual(['reserved', 'bound', 'released']);
  });

  it('record mode stores a bound reservation without quota or capacity checks', async () => {
    const s = make();
    const r = reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 5 }] });
    const out = await s.ledger.reserve(r, { ib: 0, roce: 0 }, { record: true });
    expect(out).toMatchObject({ kind: 'reserved', claims: [], provision: [] });
    expect((await s.ledger.get(r.podUid))?.state).toBe('bound');
    expect(await s.ledger.expiredPending(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
    expect(await s.usage('alpha')).toEqual({ ib: 5 });
  });

  it('pods of no tenant add no tenant usage', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap());
    const r = reservation({ tenant: '', pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 1 }] });
    expect(await s.ledger.reserve(r, NO_QUOTA)).toMatchObject({ kind: 'reserved' });
    expect(await s.usage('')).toEqual({});
    await s.ledger.release(r.podUid);
    expect(await s.reserved('node-1')).toEqual({});
  });

  it('promises each GPU of a node to one live reservation: GPU_TAKEN names the GPU and its owner, nothing changes', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap());
    await s.setCapacity('node-2', PF_A, cap());
    const pfs = [{ pfPciAddress: PF_A, linkType: 'ib' as const, count: 1 }];
    const a = reservation({ pfs, gpus: [G0, G1] });
    expect(await s.ledger.reserve(a, NO_QUOTA)).toMatchObject({ kind: 'reserved' });
    const b = reservation({ pfs, gpus: [G2, G1] });
    expect(await s.ledger.reserve(b, NO_QUOTA)).toEqual({
      kind: 'rejected',
      code: 'GPU_TAKEN',
      message: `GPU ${G1} is promised to pod ${a.podUid}`,
      gpu: { pciAddress: G1, owner: a.podUid },
    });
    expect(await s.ledger.get(b.podUid)).toBeUndefined();
    expect(await s.reserved('node-1')).toEqual({ [PF_A]: 1 });
    expect(await s.usage('alpha')).toEqual({ ib: 1 });
    expect((await s.events()).length).toBe(1);
    // Another node's GPU of the same address is another GPU; a retried bind of `a` is a no-op.
    expect(await s.ledger.reserve({ ...b, node: 'node-2' }, NO_QUOTA)).toMatchObject({ kind: 'reserved' });
    expect(await s.ledger.reserve(a, NO_QUOTA)).toMatchObject({ kind: 'exists' });
    const c = reservation({ pfs, gpus: [G2] });
    expect(await s.ledger.reserve(c, NO_QUOTA)).toMatchObject({ kind: 'reserved' });
    expect(await s.ledger.gpuPromises('node-1')).toEqual(
      new Map([
        [G0, a.podUid],
        [G1, a.podUid],
        [G2, c.podUid],
      ]),
    );
    expect(await s.ledger.gpuPromises('node-2')).toEqual(
      new Map([
        [G2, b.podUid],
        [G1, b.podUid],
      ]),
    );
    // Releasing `a` frees its GPUs only, on its node only.
    await s.ledger.release(a.podUid);
    expect(await s.ledger.gpuPromises('node-1')).toEqual(new Map([[G2, c.podUid]]));
    expect((await s.ledger.gpuPromises('node-2')).size).toBe(2);
    const d = reservation({ pfs, gpus: [G1] });
    expect(await s.ledger.reserve(d, NO_QUOTA)).toMatchObject({ kind: 'reserved' });
    expect((await s.ledger.gpuPromises('node-1')).get(G1)).toBe(d.podUid);
  });

  it('a GPU promise whose pod holds no reservation does not count; reconcile prunes it', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap());
    const pfs = [{ pfPciAddress: PF_A, linkType: 'ib' as const, count: 1 }];
    const live = reservation({ pfs, gpus: [G0] });
    await s.ledger.reserve(live, NO_QUOTA);
    await s.promiseGpu('node-1', G1, 'gone-pod');
    await s.promiseGpu('node-1', G2, 'gone-too');
    await s.promiseGpu('node-3', G0, 'gone-three');
    const r = reservation({ pfs, gpus: [G1] });
    expect(await s.ledger.reserve(r, NO_QUOTA)).toMatchObject({ kind: 'reserved' });
    expect(await s.ledger.gpuPromises('node-1')).toEqual(
      new Map([
        [G0, live.podUid],
        [G1, r.podUid],
        [G2, 'gone-too'],
      ]),
    );
    expect(await s.ledger.pruneGpuPromises(['node-1', 'node-3', 'node-9'])).toBe(2);
    expect(await s.ledger.pruneGpuPromises(['node-1', 'node-3'])).toBe(0);
    expect(await s.ledger.gpuPromises('node-1')).toEqual(
      new Map([
        [G0, live.podUid],
        [G1, r.podUid],
      ]),
    );
    expect((await s.ledger.gpuPromises('node-3')).size).toBe(0);
  });

  it('record mode takes only the GPUs no live reservation holds, and its release frees only those', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap());
    const pfs = [{ pfPciAddress: PF_A, linkType: 'ib' as const, count: 1 }];
    const a = reservation({ pfs, gpus: [G0] });
    await s.ledger.reserve(a, NO_QUOTA);
    const rec = reservation({ pfs, gpus: [G0, G1] });
    expect(await s.ledger.reserve(rec, NO_QUOTA, { record: true })).toMatchObject({ kind: 'reserved' });
    expect(await s.ledger.gpuPromises('node-1')).toEqual(
      new Map([
        [G0, a.podUid],
        [G1, rec.podUid],
      ]),
    );
    await s.ledger.release(rec.podUid);
    expect(await s.ledger.gpuPromises('node-1')).toEqual(new Map([[G0, a.podUid]]));
  });

  it('a mirror fed by the events ends where the ledger is, also when loaded halfway', async () => {
    const s = make();
    await s.setCapacity('node-1', PF_A, cap({ numVfs: 0, configured: 0, maxVfs: 8 }));
    await s.setCapacity('node-1', PF_R, cap({ linkType: 'roce' }));
    const a = reservation({ pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: 2 }] });
    await s.ledger.reserve(a, NO_QUOTA);
    const early = await s.mirror();
    const b = reservation({ tenant: 'beta', pfs: [{ pfPciAddress: PF_R, linkType: 'roce', count: 3 }] });
    await s.ledger.reserve(b, NO_QUOTA);
    await s.ledger.markBound(b);
    const c = reservation({ pfs: [{ pfPciAddress: PF_R, linkType: 'roce', count: 1 }] });
    await s.ledger.reserve(c, NO_QUOTA);
    await s.ledger.release(c.podUid);
    const late = await s.mirror();
    for (const { mirror } of [early, late]) {
      await waitFor(
        () => mirror.reservation(c.podUid) === undefined && mirror.size === 2,
        'mirror caught up',
      );
      await waitFor(() => mirror.reservation(b.podUid)?.state === 'bound', 'bound event applied');
      expect(mirror.forNode('node-1').reservedByPf).toEqual(
        new Map([
          [PF_A, 2],
          [PF_R, 3],
        ]),
      );
      expect(mirror.forNode('node-1').resizeClaims).toEqual(new Map([[PF_A, a.podUid]]));
      expect(mirror.forNode('node-1').podUids).toEqual(new Set([a.podUid, b.podUid]));
      expect(mirror.tenantUsage('alpha')).toEqual({ ib: 2, roce: 0, pods: 1 });
      expect(mirror.tenantUsage('beta')).toEqual({ ib: 0, roce: 3, pods: 1 });
    }
    await early.close();
    await late.close();
  });
});

/** `usual` nine times in ten: keeps most cases past the early refusals, into the counting rules. */
function mostly(usual: boolean): fc.Arbitrary<boolean> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.constant(usual) },
    { weight: 1, arbitrary: fc.constant(!usual) },
  );
}

describe('the Lua bind rules and the pure rules agree', () => {
  const capArb = fc.record({
    numVfs: fc.integer({ min: 0, max: 12 }),
    maxVfs: fc.integer({ min: 0, max: 12 }),
    configured: fc.integer({ min: 0, max: 12 }),
    foreignInUse: fc.integer({ min: 0, max: 4 }),
    resizing: mostly(false),
    portActive: mostly(true),
  });
  const caseArb = fc.record({
    cap: capArb,
    reserved: fc.integer({ min: 0, max: 6 }),
    n: fc.integer({ min: 1, max: 12 }),
    usage: fc.integer({ min: 0, max: 6 }),
    quota: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
    claim: mostly(false),
  });

  it('on random PF states, quotas and requests (single Redis)', async () => {
    const client = single();
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const s = redisSubject(client);
        const c = cap({ ...k.cap, configured: Math.min(k.cap.configured, k.cap.numVfs) });
        await s.setCapacity('node-1', PF_A, c);
        await s.setCapacity('node-1', PF_B, cap());
        if (k.claim) await s.claim('node-1', PF_A, 'agent');
        // Existing holds: `reserved` VFs on PF_A (recorded), `usage` VFs of the tenant on PF_B.
        if (k.reserved > 0)
          await s.ledger.reserve(
            reservation({
              tenant: 'other',
              pfs: [{ pfPciAddress: PF_A, linkType: 'ib', count: k.reserved }],
            }),
            NO_QUOTA,
            { record: true },
          );
        if (k.usage > 0)
          await s.ledger.reserve(
            reservation({ pfs: [{ pfPciAddress: PF_B, linkType: 'ib', count: k.usage }] }),
            NO_QUOTA,
            { record: true },
          );
        const quota: TenantQuota = { ib: k.quota, roce: undefined };
        const pfs = [{ pfPciAddress: PF_A, linkType: 'ib' as const, count: k.n }];
        const expected = checkReservation({
          pfs,
          usage: { ib: k.usage, roce: 0 },
          quota,
          pf: () => ({ reserved: k.reserved, capacity: c, claim: k.claim ? 'agent' : undefined }),
        });
        const got = await s.ledger.reserve(reservation({ pfs }), quota);
        if (expected.ok) {
          expect(got).toMatchObject({
            kind: 'reserved',
            claims: expected.claims,
            provision: expected.provision,
          });
        } else {
          expect(got).toEqual({ kind: 'rejected', code: expected.code, message: expected.message });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('on random GPU promises: live, stale and own owners (single Redis)', async () => {
    const client = single();
    const ownerArb = fc.constantFrom('none', 'live', 'stale', 'self');
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(ownerArb, ownerArb, ownerArb),
        fc.subarray([G0, G1, G2], { minLength: 1 }),
        async (owners, gpus) => {
          const s = redisSubject(client);
          await s.setCapacity('node-1', PF_A, cap());
          const pfs = [{ pfPciAddress: PF_A, linkType: 'ib' as const, count: 1 }];
          const live = reservation({ pfs });
          await s.ledger.reserve(live, NO_QUOTA, { record: true });
          const wanted = reservation({ pfs, gpus });
          const ownerOf = new Map<string, string>();
          for (const [i, g] of [G0, G1, G2].entries()) {
            const kind = owners[i];
            const owner =
              kind === 'live'
                ? live.podUid
                : kind === 'stale'
                  ? 'gone-pod'
                  : kind === 'self'
                    ? wanted.podUid
                    : '';
            if (owner === '') continue;
            ownerOf.set(g, owner);
            await s.promiseGpu('node-1', g, owner);
          }
          const expected = checkGpus(gpus, (g) => (ownerOf.get(g) === live.podUid ? live.podUid : undefined));
          const got = await s.ledger.reserve(wanted, NO_QUOTA);
          if (expected.ok) {
            expect(got).toMatchObject({ kind: 'reserved' });
            for (const g of gpus) expect((await s.ledger.gpuPromises('node-1')).get(g)).toBe(wanted.podUid);
          } else {
            expect(got).toEqual({
              kind: 'rejected',
              code: 'GPU_TAKEN',
              message: expected.message,
              gpu: expected.gpu,
            });
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
