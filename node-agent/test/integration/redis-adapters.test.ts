/**
 * The Redis adapters against a real redis-server (REDIS_URL, started by the vitest global setup),
 * and the in-memory fakes against the same contract, so tests that use the fakes stay honest.
 * Every test uses its own key prefix.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RedisKeys,
  parseLedgerEvent,
  parseNodeEvent,
  type LedgerEvent,
  parseProvisionResult,
  type NodeReport,
  type PfCapacity,
} from '@rdmasched/contracts';
import { InMemoryGuidPool } from '../../src/adapters/memory/in-memory-guid-pool.js';
import { InMemoryLedger } from '../../src/adapters/memory/in-memory-ledger.js';
import { RedisGuidPool } from '../../src/adapters/redis/redis-guid-pool.js';
import { RedisLedger } from '../../src/adapters/redis/redis-ledger.js';
import {
  RedisAgentStateStore,
  RedisProvisionQueue,
  RedisReportStore,
} from '../../src/adapters/redis/redis-stores.js';
import { emptyAgentState } from '../../src/core/agent-state.js';
import type { GuidRange } from '../../src/core/identity.js';
import type { GuidPool } from '../../src/ports/guid-pool.js';
import type { AgentLedger } from '../../src/ports/ledger.js';
import { makeReservation } from '../support/harness.js';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const clients: Redis[] = [];
const client = (): Redis => {
  const c = new Redis(url, { maxRetriesPerRequest: 1 });
  clients.push(c);
  return c;
};
let r: Redis;
beforeAll(() => {
  r = client();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
});
const freshKeys = () => new RedisKeys({ prefix: `t-${randomUUID().slice(0, 8)}` });
const RANGE: GuidRange = { start: '02:00:00:00:00:00:00:00', size: 1000n };
const PF = '0000:1a:00.0';

/** What the extender's bind script writes for a reservation (ledger side), so both ledgers see it. */
interface LedgerWorld {
  ledger: AgentLedger;
  reserve(podUid: string, pf: string, count: number, claim?: boolean): Promise<void>;
  claimOf(pf: string): Promise<string | undefined>;
  /** The claim events appended so far (claimed / claim-released), oldest first. */
  claimEvents(): Promise<LedgerEvent[]>;
}
const isClaimEvent = (e: LedgerEvent) => e.type === 'claimed' || e.type === 'claim-released';

const ledgers: [string, () => LedgerWorld][] = [
  [
    'in memory',
    () => {
      const l = new InMemoryLedger({ nowMs: () => 1_764_000_000_000 });
      const events: LedgerEvent[] = [];
      l.onEvent((e) => events.push(e));
      return {
        ledger: l,
        reserve: (podUid, pf, count, claim) =>
          Promise.resolve(l.reserve(makeReservation(podUid, pf, count), claim === true ? pf : undefined)),
        claimOf: (pf) => Promise.resolve(l.claims.get('node-a')?.get(pf)),
        claimEvents: () => Promise.resolve(events.filter(isClaimEvent)),
      };
    },
  ],
  [
    'in Redis',
    () => {
      const keys = freshKeys();
      return {
        ledger: new RedisLedger(r, keys, { nowMs: () => 1_764_000_000_000 }),
        reserve: async (podUid, pf, count, claim) => {
          await r.set(keys.reservation(podUid), JSON.stringify(makeReservation(podUid, pf, count)));
          await r.sadd(keys.nodeReservations('node-a'), podUid);
          await r.hincrby(keys.nodeReserved('node-a'), pf, count);
          if (claim === true) await r.hset(keys.nodeResizing('node-a'), pf, podUid);
        },
        claimOf: async (pf) => (await r.hget(keys.nodeResizing('node-a'), pf)) ?? undefined,
        claimEvents: async () =>
          (await r.xrange(keys.ledgerEvents(), '-', '+')).map(([, fields]) => {
            expect(fields[0]).toBe('event');
            const e = parseLedgerEvent(fields[1] ?? '');
            if (e === undefined) return expect.fail(`malformed ledger event ${fields[1] ?? ''}`);
            return e;
          }),
      };
    },
  ],
];

describe.each(ledgers)('the ledger contract (%s)', (_name, make) => {
  it('the agent claims only a PF nobody reserved; claims are exclusive, idempotent and owner-released', async () => {
    const w = make();
    expect(await w.ledger.takeClaim('node-a', PF, 'agent')).toEqual({ ok: true });
    expect(await w.ledger.takeClaim('node-a', PF, 'agent')).toEqual({ ok: true });
    expect(await w.ledger.takeClaim('node-a', PF, 'pod-1')).toMatchObject({ ok: false, reason: 'CLAIMED' });
    expect(await w.ledger.releaseClaim('node-a', PF, 'pod-1')).toBe(false);
    expect(await w.ledger.releaseClaim('node-a', PF, 'agent')).toBe(true);
    expect(await w.ledger.releaseClaim('node-a', PF, 'agent')).toBe(false);
    await w.reserve('pod-1', PF, 2);
    expect(await w.ledger.takeClaim('node-a', PF, 'agent')).toMatchObject({ ok: false, reason: 'HELD' });
    expect(await w.claimOf(PF)).toBeUndefined();
    // One event per change, in order: a confirmed claim and refused or foreign releases append none.
    const at = 1_764_000_000_000;
    expect(await w.claimEvents()).toEqual([
      { type: 'claimed', node: 'node-a', pf: PF, owner: 'agent', atMs: at },
      { type: 'claim-released', node: 'node-a', pf: PF, owner: 'agent', atMs: at },
    ]);
  });

  it('lists the reservations of a node with the pod names the kubelet reports', async () => {
    const w = make();
    await w.reserve('pod-1', PF, 2);
    await w.reserve('pod-2', '0000:9e:00.0', 1);
    const mine = await w.ledger.reservationsOfNode('node-a');
    expect(mine.map((r) => [r.podUid, r.namespace, r.podName]).sort()).toEqual([
      ['pod-1', 'team-a', 'pod-pod-1'],
      ['pod-2', 'team-a', 'pod-pod-2'],
    ]);
    expect(await w.ledger.reservationsOfNode('node-b')).toEqual([]);
  });

  it('a pod claims a PF only for its own reservation, and only when nobody else holds it', async () => {
    const w = make();
    expect(await w.ledger.takeClaim('node-a', PF, 'pod-9')).toMatchObject({
      ok: false,
      reason: 'NO_RESERVATION',
    });
    await w.reserve('pod-1', PF, 2, true);
    expect(await w.ledger.takeClaim('node-a', PF, 'pod-1')).toEqual({ ok: true });
    expect(await w.ledger.takeClaim('node-a', '0000:9e:00.0', 'pod-1')).toMatchObject({
      ok: false,
      reason: 'NO_RESERVATION',
    });
    await w.reserve('pod-2', PF, 1);
    await w.ledger.releaseClaim('node-a', PF, 'pod-1');
    expect(await w.ledger.takeClaim('node-a', PF, 'pod-1')).toMatchObject({ ok: false, reason: 'HELD' });
    const holds = await w.ledger.holds('node-a');
    expect(holds.reserved.get(PF)).toBe(3);
    expect((await w.ledger.reservations(['pod-1', 'pod-x'])).size).toBe(1);
    // pod-1's claim came with its reservation (the bind script's own `reserved` event); taking it
    // again changes nothing, so the only claim event is its release.
    expect((await w.claimEvents()).map((e) => e.type)).toEqual(['claim-released']);
  });
});

const pools: [string, (range?: GuidRange) => GuidPool][] = [
  ['in memory', (range = RANGE) => new InMemoryGuidPool(range)],
  ['in Redis', (range = RANGE) => new RedisGuidPool(r, freshKeys(), range)],
];

describe.each(pools)('the GUID pool contract (%s)', (_name, make) => {
  it('allocates from the start of the range, idempotently per VF, reuses released ones, and says when exhausted', async () => {
    const p = make();
    const a = await p.allocate('node-a', '0000:1a:00.1');
    expect(a).toEqual({ ok: true, guid: '02:00:00:00:00:00:00:00' });
    expect(await p.allocate('node-a', '0000:1a:00.1')).toEqual(a);
    expect(await p.allocate('node-b', '0000:1a:00.1')).toEqual({ ok: true, guid: '02:00:00:00:00:00:00:01' });
    expect(await p.release('node-a', '0000:1a:00.1')).toBe('02:00:00:00:00:00:00:00');
    expect(await p.release('node-a', '0000:1a:00.1')).toBeUndefined();
    expect(await p.allocate('node-a', '0000:1a:00.2')).toEqual({ ok: true, guid: '02:00:00:00:00:00:00:00' });
    expect([...(await p.ofNode('node-a')).entries()]).toEqual([['0000:1a:00.2', '02:00:00:00:00:00:00:00']]);
  });

  it('adopts an unowned GUID found on a VF, refuses one owned elsewhere', async () => {
    const p = make();
    expect(await p.adopt('node-a', '0000:1a:00.1', '0a:00:00:00:00:00:00:01')).toBe('adopted');
    expect(await p.adopt('node-a', '0000:1a:00.1', '0a:00:00:00:00:00:00:01')).toBe('already');
    expect(await p.adopt('node-b', '0000:1a:00.1', '0a:00:00:00:00:00:00:01')).toBe('conflict');
    expect(await p.adopt('node-a', '0000:1a:00.1', '0a:00:00:00:00:00:00:02')).toBe('conflict');
    expect(await p.allocate('node-a', '0000:1a:00.1')).toEqual({ ok: true, guid: '0a:00:00:00:00:00:00:01' });
  });

  it('runs out at the end of the range', async () => {
    const p = make({ start: RANGE.start, size: 2n });
    expect((await p.allocate('n', '0000:01:00.1')).ok).toBe(true);
    expect((await p.allocate('n', '0000:01:00.2')).ok).toBe(true);
    expect(await p.allocate('n', '0000:01:00.3')).toEqual({ ok: false, reason: 'EXHAUSTED' });
  });
});

describe('the Redis GUID pool under concurrency', () => {
  it('three agents racing on separate connections never get the same GUID', async () => {
    const keys = freshKeys();
    const agents = [0, 1, 2].map(
      () => new RedisGuidPool(client(), keys, { start: '02:00:00:00:00:00:00:00', size: 2n ** 40n }),
    );
    const results = await Promise.all(
      agents.flatMap((a, i) =>
        Array.from({ length: 100 }, (_, j) =>
          a.allocate(`node-${i}`, `0000:${(j >> 3).toString(16).padStart(2, '0')}:00.${j & 7}`),
        ),
      ),
    );
    const guids = results.map((x) => (x.ok ? x.guid : 'none'));
    expect(new Set(guids).size).toBe(300);
    expect(await r.hlen(keys.guidOwners())).toBe(300);
    // Release a third, allocate again: released ones come back, still no duplicates.
    await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        agents[0]!.release('node-0', `0000:${(j >> 3).toString(16).padStart(2, '0')}:00.${j & 7}`),
      ),
    );
    const again = await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        agents[2]!.allocate('node-9', `0000:0${j % 10}:01.${j % 8}-${j}`),
      ),
    );
    const all = new Set([...(await r.hkeys(keys.guidOwners()))]);
    expect(all.size).toBe(300);
    expect(again.every((x) => x.ok)).toBe(true);
  });
});

describe('the report store, agent notes and provisioning streams in Redis', () => {
  const report = (generation: number): NodeReport => ({
    apiVersion: 'rdmasched.io/v1',
    kind: 'NodeReport',
    nodeName: 'node-a',
    agentVersion: 't',
    generation,
    reportedAt: new Date(1_800_000_000_000).toISOString(),
    heartbeatIntervalMs: 1000,
    numaNodes: [],
    gpus: [],
    pfs: [],
  });
  const cap = (generation: number): PfCapacity => ({
    linkType: 'ib',
    numVfs: 4,
    maxVfs: 16,
    configured: 4,
    foreignInUse: 0,
    resizing: false,
    portActive: true,
    generation,
  });

  it('publishes report, capacity (dropping stale PFs), heartbeat with TTL, index and a report event', async () => {
    const keys = freshKeys();
    const store = new RedisReportStore(r, keys);
    expect(await store.storedGeneration('node-a')).toBe(0);
    await store.publish(
      report(5),
      new Map([
        [PF, cap(5)],
        ['0000:9e:00.0', cap(5)],
      ]),
      30_000,
    );
    await store.publish(report(6), new Map([[PF, cap(6)]]), 30_000);
    expect(JSON.parse((await r.get(keys.report('node-a')))!)).toMatchObject({ generation: 6 });
    expect(await r.hkeys(keys.nodeCapacity('node-a'))).toEqual([PF]);
    const ttl = await r.pttl(keys.heartbeat('node-a'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
    expect(await r.zscore(keys.nodeIndex(), 'node-a')).toBe('6');
    await store.heartbeat('node-a', 6, 1_800_000_001_000, 30_000);
    const events = (await r.xrange(keys.events(), '-', '+')).map(([, f]) => parseNodeEvent(f[1]!));
    expect(events.map((e) => [e?.type, e?.generation])).toEqual([
      ['report', 5],
      ['report', 6],
      ['heartbeat', 6],
    ]);
    expect(await store.storedGeneration('node-a')).toBe(6);
  });

  it('stores agent notes and reports malformed ones instead of trusting them', async () => {
    const keys = freshKeys();
    const notes = new RedisAgentStateStore(r, keys);
    expect(await notes.load('node-a')).toBeUndefined();
    await notes.save('node-a', emptyAgentState());
    expect(await notes.load('node-a')).toEqual(emptyAgentState());
    await r.set(keys.agentState('node-a'), '{"version":1,"op":{"kind":"resize","pf":"../../x"}}');
    expect(await notes.load('node-a')).toMatchObject({ malformed: expect.stringMatching(/op/) as unknown });
  });

  it('delivers requests at least once: unacknowledged ones come back to a restarted consumer', async () => {
    const keys = freshKeys();
    const mk = () =>
      new RedisProvisionQueue({ client: client(), blockingClient: client(), keys, node: 'node-a' });
    const q1 = mk();
    expect(await q1.next(10)).toEqual([]);
    const id = await r.xadd(keys.provisionRequests('node-a'), '*', 'request', '{"id":"a"}');
    const got = await q1.next(1000);
    expect(got).toEqual([{ entryId: id, raw: '{"id":"a"}' }]);
    await q1.close();
    const q2 = mk(); // restarted agent, same consumer name
    expect(await q2.next(10)).toEqual([{ entryId: id, raw: '{"id":"a"}' }]);
    await q2.ack(id!);
    expect(await q2.next(10)).toEqual([]);
    await q2.answer({
      id: 'a',
      node: 'node-a',
      pfPciAddress: PF,
      status: 'ready',
      readyVfs: 1,
      code: 'OK',
      message: 'ok',
      finishedAtMs: 1,
    });
    const [[, fields]] = (await r.xrange(keys.provisionResults('node-a'), '-', '+')) as [[string, string[]]];
    expect(parseProvisionResult(fields[1]!)).toMatchObject({ ok: true, value: { id: 'a', status: 'ready' } });
    await q2.close();
  });

  it('recreates its consumer group when Redis lost it', async () => {
    const keys = freshKeys();
    const q = new RedisProvisionQueue({ client: client(), blockingClient: client(), keys, node: 'node-a' });
    await q.next(10);
    await r.del(keys.provisionRequests('node-a'));
    await expect(q.next(10)).rejects.toThrow(/NOGROUP/);
    await r.xadd(keys.provisionRequests('node-a'), '*', 'request', '{"id":"b"}');
    expect((await q.next(100)).map((e) => e.raw)).toEqual(['{"id":"b"}']);
    await q.close();
  });
});
