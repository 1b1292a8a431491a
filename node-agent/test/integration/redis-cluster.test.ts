/**
 * The same adapters on a Redis Cluster (3 masters on loopback): every script touches one slot and
 * keys of different hash tags are written separately, so nothing changes for the agent.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys, parseNodeReport } from '@rdmasched/contracts';
import { startRedisCluster, type RedisClusterHandle } from '@rdmasched/testkit';
import { connectRedis, type RedisConnection } from '../../src/adapters/redis/connection.js';
import { RedisGuidPool } from '../../src/adapters/redis/redis-guid-pool.js';
import { RedisLedger } from '../../src/adapters/redis/redis-ledger.js';
import {
  RedisAgentStateStore,
  RedisProvisionQueue,
  RedisReportStore,
} from '../../src/adapters/redis/redis-stores.js';
import { agentHarness, makeReservation, requestJson, type Harness } from '../support/harness.js';
import { eventually } from '../support/eventually.js';

let cluster: RedisClusterHandle;
let conn: RedisConnection;
let h: Harness | undefined;
beforeAll(async () => {
  cluster = await startRedisCluster();
  conn = connectRedis({ clusterNodes: cluster.nodes });
  await eventually(async () => expect(await conn.client.ping()).toBe('PONG'));
}, 120_000);
afterAll(async () => {
  h?.cleanup();
  await conn?.close();
  await cluster?.stop();
});

describe('on Redis Cluster', () => {
  it('an agent provisions, publishes and answers through the cluster', async () => {
    const keys = new RedisKeys({ prefix: `c-${randomUUID().slice(0, 8)}` });
    const c = conn.client;
    h = agentHarness()
      .preset('reference-host', { numVfs: 0 })
      .maxVfsPerPf(4)
      .ports({
        ledger: new RedisLedger(c, keys),
        pool: new RedisGuidPool(c, keys, { start: '02:00:00:00:00:00:00:00', size: 1n << 20n }),
        states: new RedisAgentStateStore(c, keys),
        reports: new RedisReportStore(c, keys),
        queue: new RedisProvisionQueue({ client: c, blockingClient: conn.duplicate(), keys, node: 'node-a' }),
      })
      .build();
    await h.agent.recover();
    const pf = '0000:9e:00.0';
    await c.set(
      keys.reservation('pod-c'),
      JSON.stringify({
        ...makeReservation('pod-c', pf, 2),
        pfs: [{ pfPciAddress: pf, linkType: 'roce', count: 2 }],
      }),
    );
    await c.hincrby(keys.nodeReserved('node-a'), pf, 2);
    await c.hset(keys.nodeResizing('node-a'), pf, 'pod-c');
    await c.xadd(
      keys.provisionRequests('node-a'),
      '*',
      'request',
      requestJson({ id: 'c1', pfPciAddress: pf, minReadyVfs: 2, podUid: 'pod-c' }),
    );
    await eventually(async () => expect(await h!.agent.processQueueOnce(100)).toBeGreaterThan(0));
    const results = await c.xrange(keys.provisionResults('node-a'), '-', '+');
    expect(JSON.parse(results[0]![1][1]!)).toMatchObject({ id: 'c1', status: 'ready', readyVfs: 4 });
    const rep = parseNodeReport((await c.get(keys.report('node-a')))!);
    expect(rep.ok && rep.value.pfs.find((p) => p.pciAddress === pf)?.vfs.every((v) => v.configured)).toBe(
      true,
    );
    expect(await c.hlen(keys.nodeGuids('node-a'))).toBe(4);
    expect(await c.hget(keys.nodeResizing('node-a'), pf)).toBeNull();
    expect(await c.zscore(keys.nodeIndex(), 'node-a')).not.toBeNull();
  });
});
