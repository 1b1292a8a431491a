/**
 * The agent daemon end to end: configuration -> composition root (main.ts) -> simulated host,
 * real Redis, real HTTP. A provisioning request sent like the extender sends it comes back as a
 * result on the stream, the report in Redis follows, and /metrics, /healthz, /readyz answer.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys, parseNodeReport, parseProvisionResult, type NodeReport } from '@rdmasched/contracts';
import { presetSpec } from '../../src/adapters/sim/presets.js';
import { SimulatedHost } from '../../src/adapters/sim/simulated-host.js';
import { parseConfig } from '../../src/config.js';
import { startAgent, type RunningAgent } from '../../src/main.js';
import { makeReservation, tempHostDir } from '../support/harness.js';
import { eventually } from '../support/eventually.js';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const NODE = 'node-e2e';
const IB = '0000:1a:00.0';
const prefix = `e2e-${randomUUID().slice(0, 8)}`;
const keys = new RedisKeys({ prefix });
let r: Redis;
let running: RunningAgent;
let sim: SimulatedHost;
let dir: ReturnType<typeof tempHostDir>;

const report = async (): Promise<NodeReport | undefined> => {
  const json = await r.get(keys.report(NODE));
  if (json === null) return undefined;
  const v = parseNodeReport(json);
  return v.ok ? v.value : undefined;
};

beforeAll(async () => {
  r = new Redis(url);
  dir = tempHostDir();
  sim = SimulatedHost.create(dir.dir, presetSpec('reference-host', { numVfs: 0 }));
  const config = parseConfig({
    RDMASCHED_NODE_NAME: NODE,
    RDMASCHED_HOST_MODE: 'simulated',
    RDMASCHED_SIM_DIR: dir.dir,
    RDMASCHED_REDIS_URL: url,
    RDMASCHED_REDIS_KEY_PREFIX: prefix,
    RDMASCHED_HTTP_HOST: '127.0.0.1',
    RDMASCHED_HTTP_PORT: '0',
    RDMASCHED_HEARTBEAT_INTERVAL_MS: '200',
    RDMASCHED_DISCOVERY_INTERVAL_MS: '300',
    RDMASCHED_WARM_POOL_INTERVAL_MS: '300',
    RDMASCHED_MAX_VFS_PER_PF: '4',
    RDMASCHED_LOG_LEVEL: 'silent',
  });
  running = await startAgent(config);
});
afterAll(async () => {
  await running.stop();
  await r.quit();
  dir.cleanup();
});

describe('the agent daemon on Redis', () => {
  it('becomes ready and publishes a valid report, its capacity summary and a heartbeat', async () => {
    await eventually(async () => expect((await fetch(`${running.address}/readyz`)).status).toBe(200));
    const rep = await report();
    expect(rep?.pfs.map((p) => p.pciAddress)).toEqual([IB, '0000:9e:00.0']);
    expect(rep?.gpus).toHaveLength(4);
    expect(await r.hkeys(keys.nodeCapacity(NODE))).toEqual(expect.arrayContaining([IB, '0000:9e:00.0']));
    expect(await r.exists(keys.heartbeat(NODE))).toBe(1);
    expect(await (await fetch(`${running.address}/healthz`)).json()).toEqual({ status: 'ok' });
  });

  it('answers a provisioning request sent on the stream, and the report follows', async () => {
    await r.set(keys.reservation('pod-e2e'), JSON.stringify(makeReservation('pod-e2e', IB, 2, NODE)));
    await r.hincrby(keys.nodeReserved(NODE), IB, 2);
    await r.hset(keys.nodeResizing(NODE), IB, 'pod-e2e');
    await r.xadd(
      keys.provisionRequests(NODE),
      '*',
      'request',
      JSON.stringify({
        id: 'e2e-1',
        node: NODE,
        pfPciAddress: IB,
        minReadyVfs: 2,
        reason: 'reservation',
        podUid: 'pod-e2e',
        requestedAtMs: Date.now(),
        deadlineMs: Date.now() + 60_000,
      }),
    );
    const result = await eventually(async () => {
      const entries = await r.xrange(keys.provisionResults(NODE), '-', '+');
      const parsed = entries.map(([, f]) => parseProvisionResult(f[1] ?? ''));
      const mine = parsed.find((p) => p.ok && p.value.id === 'e2e-1');
      expect(mine).toBeDefined();
      return mine;
    });
    expect(result).toMatchObject({ ok: true, value: { status: 'ready', readyVfs: 4, code: 'OK' } });
    expect(await r.hget(keys.nodeResizing(NODE), IB)).toBeNull();
    await eventually(async () => {
      const pf = (await report())?.pfs.find((p) => p.pciAddress === IB);
      expect(pf?.sriov?.numVfs).toBe(4);
      expect(pf?.vfs.filter((v) => v.configured)).toHaveLength(4);
      expect(pf?.vfs.filter((v) => v.state === 'reserved')).toHaveLength(2);
    });
    expect(await r.hlen(keys.nodeGuids(NODE))).toBe(4);
  });

  it('serves Prometheus metrics: port bytes (4-byte units x 4), VFs by state, publishes, provisioning', async () => {
    sim.addTraffic(IB, { xmitBytes: 4000, rcvBytes: 8000, xmitPackets: 10, rcvPackets: 20 });
    const text = await eventually(async () => {
      const t = await (await fetch(`${running.address}/metrics`)).text();
      expect(t).toMatch(/rdmasched_agent_vfs\{pf="0000:1a:00.0",state="reserved"\} 2/);
      return t;
    });
    expect(text).toMatch(
      /rdmasched_agent_port_transmit_bytes_total\{pf="0000:1a:00.0",device="mlx5_0",link_type="ib"\} 4000/,
    );
    expect(text).toMatch(
      /rdmasched_agent_port_receive_bytes_total\{pf="0000:1a:00.0",device="mlx5_0",link_type="ib"\} 8000/,
    );
    expect(text).toMatch(
      /rdmasched_agent_port_receive_packets_total\{pf="0000:1a:00.0",device="mlx5_0",link_type="ib"\} 20/,
    );
    expect(text).toMatch(/rdmasched_agent_vfs\{pf="0000:1a:00.0",state="free"\} 2/);
    expect(text).toMatch(/rdmasched_agent_report_publishes_total\{kind="report"\} [1-9]/);
    expect(text).toMatch(/rdmasched_agent_report_age_seconds [0-9.]+/);
    expect(text).toMatch(
      /rdmasched_agent_provision_duration_seconds_count\{reason="reservation",status="ready"\} 1/,
    );
    expect(text).toMatch(/rdmasched_agent_guard_refusals_total 0/);
  });

  it('a bad request is answered rejected and counted by code', async () => {
    await r.xadd(
      keys.provisionRequests(NODE),
      '*',
      'request',
      JSON.stringify({ id: 'e2e-bad', node: NODE, pfPciAddress: '../../x' }),
    );
    await eventually(async () => {
      const t = await (await fetch(`${running.address}/metrics`)).text();
      expect(t).toMatch(/rdmasched_agent_provision_failures_total\{code="INVALID_REQUEST"\} 1/);
    });
  });
});
