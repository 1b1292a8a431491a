/**
 * RedisTopologyStore against a real Redis (REDIS_URL, started by the vitest global setup) and a
 * real 3-master Redis Cluster: load at start, follow reports/heartbeats/removals, staleness,
 * rejection of invalid reports, and the reload when the event stream was trimmed past our id.
 */
import { randomUUID } from 'node:crypto';
import { RedisKeys } from '@rdmasched/contracts';
import { freePort, startRedisCluster, startRedisServer, type RedisClusterHandle } from '@rdmasched/testkit';
import { Cluster, Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryReservationView } from '../../src/adapters/memory/in-memory-reservation-view.js';
import { RedisTopologyStore } from '../../src/adapters/redis/redis-topology-store.js';
import { Snapshot, type ApplyOutcome } from '../../src/core/snapshot.js';
import { makeReport } from '../../src/testing/builders.js';
import { AgentWriter, waitFor } from './agent-writer.js';

const silent = pino({ level: 'silent' });

function redisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (url === undefined || url === '')
    throw new Error('REDIS_URL is not set (the vitest global setup starts a Redis)');
  return url;
}

interface Harness {
  snapshot: Snapshot;
  store: RedisTopologyStore;
  writer: AgentWriter;
  keys: RedisKeys;
  outcomes: ApplyOutcome[];
  reloads: number[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function harness(client: Redis | Cluster, writerClient: Redis | Cluster, staleAfterHeartbeats = 3): Harness {
  const keys = new RedisKeys({ prefix: `t-${randomUUID().slice(0, 8)}` });
  const snapshot = new Snapshot({
    reservations: new InMemoryReservationView(),
    policy: 'pack',
    staleAfterHeartbeats,
  });
  const outcomes: ApplyOutcome[] = [];
  const reloads: number[] = [];
  snapshot.addListener({ onReport: (o) => outcomes.push(o), onReload: (n) => reloads.push(n) });
  const store = new RedisTopologyStore({
    client,
    keys,
    snapshot,
    logger: silent,
    blockMs: 200,
    retryDelayMs: 50,
  });
  cleanups.push(() => store.close());
  return { snapshot, store, writer: new AgentWriter(writerClient, keys), keys, outcomes, reloads };
}

function singleRedis(): Redis {
  const r = new Redis(redisUrl(), { maxRetriesPerRequest: null, lazyConnect: true });
  cleanups.push(async () => {
    r.disconnect();
    await Promise.resolve();
  });
  return r;
}

describe('RedisTopologyStore on a single Redis', () => {
  it('loads every indexed node at start (report + heartbeat), then is ready', async () => {
    const h = harness(singleRedis(), singleRedis());
    const now = Date.now();
    await h.writer.publish(makeReport('n1').generation(1).pf({ numVfs: 4 }).build(), { atMs: now });
    await h.writer.publish(makeReport('n2').generation(7).build(), { atMs: now });
    await h.writer.publish(
      makeReport('silent')
        .generation(3)
        .reportedAtMs(now - 3_600_000)
        .build(),
      {
        atMs: now - 3_600_000,
        heartbeat: false,
      },
    );
    expect(h.snapshot.loaded).toBe(false);
    await h.store.start();
    expect(h.snapshot.loaded).toBe(true);
    expect([...h.snapshot.views()].map((v) => v.name).sort()).toEqual(['n1', 'n2', 'silent']);
    expect(h.snapshot.get('n2')?.generation).toBe(7);
    expect(h.snapshot.get('n1')?.isStale(Date.now())).toBe(false);
    // No heartbeat key (TTL expired) and an hour-old report: stale from the start.
    expect(h.snapshot.get('silent')?.isStale(Date.now())).toBe(true);
    expect(h.reloads).toEqual([3]);
  });

  it('follows new reports, heartbeats and removals; ignores an older generation', async () => {
    const h = harness(singleRedis(), singleRedis());
    await h.writer.publish(makeReport('a').generation(10).build());
    await h.store.start();
    await h.writer.publish(makeReport('a').generation(11).pf({ numVfs: 2 }).build());
    await h.writer.publish(makeReport('b').generation(1).build());
    await waitFor(
      () => h.snapshot.get('a')?.generation === 11 && h.snapshot.get('b') !== undefined,
      'a@11 and b',
    );
    expect(h.snapshot.get('a')?.pfs).toHaveLength(1);

    const before = h.snapshot.get('b')?.lastHeartbeatMs ?? 0;
    await h.writer.heartbeat('b', 1, before + 1234);
    await waitFor(() => (h.snapshot.get('b')?.lastHeartbeatMs ?? 0) > before, 'heartbeat of b');

    await h.writer.publish(makeReport('a').generation(5).build());
    await waitFor(
      () => h.outcomes.some((o) => o.kind === 'not-newer' && o.node === 'a'),
      'old generation ignored',
    );
    expect(h.snapshot.get('a')?.generation).toBe(11);

    await h.writer.remove('b');
    await waitFor(() => h.snapshot.get('b') === undefined, 'b removed');
    expect(h.snapshot.get('a')).toBeDefined();
  });

  it('rejects invalid reports with reasons; the node keeps its last valid report', async () => {
    const h = harness(singleRedis(), singleRedis());
    await h.writer.publish(makeReport('good').generation(1).pf().build());
    await h.writer.publish('{"this is": "not a report"', { node: 'garbage', generation: 1 });
    await h.store.start();
    expect(h.snapshot.get('garbage')).toBeUndefined();
    expect(h.outcomes).toContainEqual({
      kind: 'rejected',
      node: 'garbage',
      errors: [expect.stringMatching(/^\/: stored report is not valid JSON/) as unknown],
    });

    const invalid = { ...makeReport('good').generation(2).build(), heartbeatIntervalMs: 5 };
    await h.writer.publish(JSON.stringify(invalid), { node: 'good', generation: 2 });
    await waitFor(
      () => h.outcomes.some((o) => o.kind === 'rejected' && o.node === 'good'),
      'rejection of good@2',
    );
    const rejected = h.outcomes.find((o) => o.kind === 'rejected' && o.node === 'good');
    expect(rejected?.kind === 'rejected' && rejected.errors.join()).toMatch(/heartbeatIntervalMs/);
    expect(h.snapshot.get('good')?.generation).toBe(1);
    expect(h.snapshot.get('good')?.pfs).toHaveLength(1);
  });

  it('marks a node stale when its heartbeats stop, and fresh again at the next one', async () => {
    const h = harness(singleRedis(), singleRedis(), 2);
    await h.writer.publish(
      makeReport('hb').generation(1).heartbeatIntervalMs(100).reportedAtMs(Date.now()).build(),
    );
    await h.store.start();
    expect(h.snapshot.get('hb')?.isStale(Date.now())).toBe(false);
    await waitFor(
      () => h.snapshot.get('hb')?.isStale(Date.now()) === true,
      'hb to go stale after 2 x 100 ms',
    );
    await h.writer.heartbeat('hb', 1);
    await waitFor(() => h.snapshot.get('hb')?.isStale(Date.now()) === false, 'hb fresh again');
  });

  it('reloads everything when the stream was trimmed past the last id it read', async () => {
    const client = singleRedis();
    const h = harness(client, singleRedis());
    await h.writer.publish(makeReport('early').generation(1).build());
    await h.store.start();
    const idBefore = h.store.lastEventId;
    // Atomically: a new node's report event, then a heartbeat, then trim to the last entry. The
    // blocked XREAD is served after EXEC, when the report event is already gone.
    const late = makeReport('late').generation(1).build();
    await client
      .multi()
      .set(h.keys.report('late'), JSON.stringify(late))
      .set(h.keys.heartbeat('late'), String(Date.now()), 'PX', 60_000)
      .zadd(h.keys.nodeIndex(), 1, 'late')
      .xadd(
        h.keys.events(),
        '*',
        'event',
        JSON.stringify({ type: 'report', node: 'late', generation: 1, atMs: Date.now() }),
      )
      .xadd(
        h.keys.events(),
        '*',
        'event',
        JSON.stringify({ type: 'heartbeat', node: 'early', generation: 1, atMs: Date.now() }),
      )
      .xtrim(h.keys.events(), 'MAXLEN', 1)
      .exec();
    await waitFor(() => h.reloads.length === 2, 'a second full load');
    expect(h.snapshot.get('late')?.generation).toBe(1);
    expect(h.snapshot.get('early')).toBeDefined();
    expect(h.store.lastEventId).not.toBe(idBefore);
  });

  it('waits for Redis at start: ready once a Redis answers, then follows it', async () => {
    const port = await freePort();
    const client = new Redis(`redis://127.0.0.1:${port}`, {
      maxRetriesPerRequest: null,
      lazyConnect: true,
      retryStrategy: () => 50,
    });
    client.on('error', () => undefined);
    cleanups.push(async () => {
      client.disconnect();
      await Promise.resolve();
    });
    const h = harness(client, client);
    const started = h.store.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(h.snapshot.loaded).toBe(false);
    const server = await startRedisServer({ port });
    cleanups.push(() => server.stop());
    await started;
    expect(h.snapshot.loaded).toBe(true);
    await h.writer.publish(makeReport('after-start').generation(1).build());
    await waitFor(
      () => h.snapshot.get('after-start') !== undefined,
      'the report published after Redis came up',
    );
  });
});

describe('RedisTopologyStore on a Redis Cluster (3 masters)', () => {
  let cluster: RedisClusterHandle | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  function clusterClient(): Cluster {
    const c = new Cluster([...(cluster?.nodes ?? [])], {
      enableAutoPipelining: true,
      redisOptions: { maxRetriesPerRequest: null },
      lazyConnect: true,
    });
    cleanups.push(async () => {
      c.disconnect();
      await Promise.resolve();
    });
    return c;
  }

  it('loads nodes spread over every slot and follows their events', async () => {
    const h = harness(clusterClient(), clusterClient());
    const names = Array.from({ length: 30 }, (_, i) => `node-${i}`);
    for (const n of names) await h.writer.publish(makeReport(n).generation(1).pf().build());
    await h.store.start();
    expect(h.snapshot.size).toBe(30);
    await h.writer.publish(makeReport('node-7').generation(2).build());
    await h.writer.remove('node-3');
    await waitFor(
      () => h.snapshot.get('node-7')?.generation === 2 && h.snapshot.get('node-3') === undefined,
      'cluster events',
    );
    expect(h.snapshot.size).toBe(29);
  });
});
