/**
 * Redis goes away and comes back empty (a restart without persistence) on the same port: the agent
 * keeps running, and once Redis is back its latest state is there again: nothing is lost.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisKeys, parseNodeReport, type NodeReport } from '@rdmasched/contracts';
import { startRedisServer, type RedisServerHandle } from '@rdmasched/testkit';
import { presetSpec } from '../../src/adapters/sim/presets.js';
import { SimulatedHost } from '../../src/adapters/sim/simulated-host.js';
import { parseConfig } from '../../src/config.js';
import { InMemoryVfUsage } from '../../src/adapters/memory/in-memory-vf-usage.js';
import { startAgent, type RunningAgent } from '../../src/main.js';
import { eventually } from '../support/eventually.js';
import { tempHostDir } from '../support/harness.js';

const NODE = 'node-rr';
const keys = new RedisKeys();
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('Redis restart', () => {
  it('the agent republishes its latest report when Redis comes back empty', async () => {
    let server: RedisServerHandle = await startRedisServer();
    const port = server.port;
    cleanups.push(() => server.stop());
    const dir = tempHostDir();
    cleanups.push(dir.cleanup);
    SimulatedHost.create(dir.dir, presetSpec('reference-host', { numVfs: 2, configuredVfs: 2 }));
    const running: RunningAgent = await startAgent(
      parseConfig({
        RDMASCHED_NODE_NAME: NODE,
        RDMASCHED_HOST_MODE: 'simulated',
        RDMASCHED_SIM_DIR: dir.dir,
        RDMASCHED_REDIS_URL: server.url,
        RDMASCHED_HTTP_HOST: '127.0.0.1',
        RDMASCHED_HTTP_PORT: '0',
        RDMASCHED_HEARTBEAT_INTERVAL_MS: '200',
        RDMASCHED_DISCOVERY_INTERVAL_MS: '300',
        RDMASCHED_LOG_LEVEL: 'silent',
      }),
    );
    cleanups.push(() => running.stop());
    const read = async (): Promise<NodeReport | undefined> => {
      const c = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
      try {
        const json = await c.get(keys.report(NODE));
        const v = json === null ? undefined : parseNodeReport(json);
        return v?.ok === true ? v.value : undefined;
      } finally {
        c.disconnect();
      }
    };
    const first = await eventually(async () => {
      const rep = await read();
      expect(rep).toBeDefined();
      return rep!;
    });
    expect(first.pfs[0]!.vfs.every((v) => v.state === 'free')).toBe(true);

    // Redis goes away; meanwhile the host changes: a container takes a VF.
    await server.stop();
    const usage = running.usage;
    if (!(usage instanceof InMemoryVfUsage)) return expect.fail('the device plugin is off in simulated mode');
    usage.allocate({ vf: '0000:1a:00.1', pf: '0000:1a:00.0', podUid: 'pod-x' });
    await eventually(async () => expect((await fetch(`${running.address}/readyz`)).status).toBe(503));

    // Redis comes back on the same port, empty.
    server = await startRedisServer({ port });
    const back = await eventually(async () => {
      const rep = await read();
      expect(rep?.pfs[0]!.vfs[0]).toMatchObject({
        pciAddress: '0000:1a:00.1',
        state: 'in-use',
        podUid: 'pod-x',
      });
      return rep!;
    });
    expect(back.generation).toBeGreaterThan(first.generation);
    const c = new Redis(server.url);
    try {
      expect(await c.zscore(keys.nodeIndex(), NODE)).toBe(String(back.generation));
      await eventually(async () => expect(await c.exists(keys.heartbeat(NODE))).toBe(1));
      expect(await c.hkeys(keys.nodeCapacity(NODE))).toHaveLength(2);
      expect((await c.xrange(keys.events(), '-', '+')).length).toBeGreaterThan(0);
    } finally {
      await c.quit();
    }
    await eventually(async () => expect((await fetch(`${running.address}/readyz`)).status).toBe(200));
  });
});
