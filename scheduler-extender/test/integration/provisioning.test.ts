/**
 * Bind waits for a real node agent (the node-agent's programmatic API: an EmbeddedAgent on an
 * in-memory simulated dgx-h100 host, over the agent's own Redis adapters) to create the VFs of an
 * idle PF; a dead agent makes bind time out and release; a resize claim left by a bind that died
 * before sending its request is sent back to the agent by reconcile and released.
 */
import {
  DEFAULT_GUID_POOL_START,
  EmbeddedAgent,
  RedisAgentStateStore,
  RedisGuidPool,
  RedisLedger as AgentRedisLedger,
  RedisProvisionQueue,
  RedisReportStore,
  SimulatedHostTemplates,
  createSimulatedHost,
} from '@rdmasched/node-agent';
import { FakeKubeApiServer } from '@rdmasched/testkit';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_QUOTA } from '../../src/ports/ledger.js';
import { waitFor } from './agent-writer.js';
import {
  bindOver,
  createPod,
  newKeys,
  podNode,
  redisUrl,
  seedTenants,
  singleRedis,
  startReplica,
  tenantObject,
  type Replica,
} from './replica.js';

const templates = new SimulatedHostTemplates();
let fake: FakeKubeApiServer;
const conns = singleRedis();
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  fake = await FakeKubeApiServer.start();
  seedTenants(fake, [{ name: 'ml' }], [tenantObject('ml', { namespaces: ['ml'], quota: { ib: 32 } })]);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  conns.closeAll();
  await fake.stop();
});

async function agentOn(keys: ReturnType<typeof newKeys>, node: string): Promise<EmbeddedAgent> {
  const client = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  const blocking = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  const agent = new EmbeddedAgent({
    nodeName: node,
    host: createSimulatedHost({ hostname: node, preset: 'dgx-h100', storage: { templates } }),
    ports: {
      reportStore: new RedisReportStore(client, keys),
      ledger: new AgentRedisLedger(client, keys),
      pool: new RedisGuidPool(client, keys, { start: DEFAULT_GUID_POOL_START, size: 1n << 20n }),
      stateStore: new RedisAgentStateStore(client, keys),
      queue: new RedisProvisionQueue({ client, blockingClient: blocking, keys, node }),
    },
    settings: { queueBlockMs: 100, heartbeatIntervalMs: 1000 },
  });
  await agent.start();
  cleanups.push(async () => {
    await agent.stop();
    client.disconnect();
    blocking.disconnect();
  });
  return agent;
}

async function replica(keys: ReturnType<typeof newKeys>, timings = {}): Promise<Replica> {
  const r = await startReplica({ connections: conns, keys, fake, timings });
  cleanups.push(() => r.close());
  await r.ready();
  return r;
}

describe('bind with provisioning by a real node agent', () => {
  it('an idle PF is enabled to maxVfs by the agent while bind waits, then the pod is bound', async () => {
    const keys = newKeys();
    await agentOn(keys, 'dgx-0');
    const r = await replica(keys, { provisionTimeoutMs: 8000, reservationTtlMs: 30_000 });
    await waitFor(() => r.x.snapshot.get('dgx-0') !== undefined, 'the agent report');
    const before = r.x.snapshot.get('dgx-0')?.report.pfs.filter((p) => p.linkType === 'ib') ?? [];
    expect(before.every((p) => p.sriov?.numVfs === 0)).toBe(true);

    const pod = createPod(fake, { namespace: 'ml', name: 'trainer-0', ib: 2 });
    expect(await bindOver(r, pod, 'dgx-0')).toBe('');
    await r.x.bind?.settled();
    const reservation = await r.ledger.get(pod.uid);
    expect(reservation).toMatchObject({ state: 'bound', pfs: [{ linkType: 'ib', count: 2 }] });
    const pf = reservation?.pfs[0]?.pfPciAddress ?? '';
    await waitFor(
      () => r.x.snapshot.get('dgx-0')?.report.pfs.find((p) => p.pciAddress === pf)?.sriov?.numVfs === 16,
      'the resized PF reported',
    );
    const reported = r.x.snapshot.get('dgx-0')?.report.pfs.find((p) => p.pciAddress === pf);
    expect(reported?.vfs.filter((v) => v.configured)).toHaveLength(16);
    // The agent released the pod's resize claim when it was done.
    await waitFor(() => r.x.mirror.forNode('dgx-0').resizeClaims.size === 0, 'claim released');
    expect(podNode(fake, 'ml', 'trainer-0')).toBe('dgx-0');
    expect(await r.registry.getSingleMetricAsString('rdmasched_extender_provision_requests_total')).toContain(
      'status="ready"} 1',
    );
  });

  it('a node whose agent never answers: bind times out and releases', async () => {
    const keys = newKeys();
    const agent = await agentOn(keys, 'dgx-1');
    const r = await replica(keys, { provisionTimeoutMs: 300 });
    await waitFor(() => r.x.snapshot.get('dgx-1') !== undefined, 'the agent report');
    await agent.stop();
    const pod = createPod(fake, { namespace: 'ml', name: 'waiting-0', ib: 1 });
    expect(await bindOver(r, pod, 'dgx-1')).toMatch(
      /^PROVISIONING_TIMEOUT: agent of dgx-1 did not make PF .* ready within 300 ms$/,
    );
    expect(await r.ledger.get(pod.uid)).toBeUndefined();
    expect(podNode(fake, 'ml', 'waiting-0')).toBeUndefined();
  });

  it('reconcile hands a claim whose reservation is gone back to the agent, which releases it', async () => {
    const keys = newKeys();
    await agentOn(keys, 'dgx-2');
    const r = await replica(keys);
    await waitFor(() => r.x.snapshot.get('dgx-2') !== undefined, 'the agent report');
    const pf = r.x.snapshot.get('dgx-2')?.report.pfs.find((p) => p.linkType === 'ib')?.pciAddress ?? '';
    // A bind that reserved (taking the claim) and died before sending its request; its
    // reservation was released since (the pod was deleted).
    const out = await r.ledger.reserve(
      {
        podUid: 'dead-pod',
        namespace: 'ml',
        podName: 'dead',
        tenant: 'ml',
        node: 'dgx-2',
        pfs: [{ pfPciAddress: pf, linkType: 'ib', count: 1 }],
        gpus: [],
        state: 'pending',
        createdAtMs: Date.now(),
        expiresAtMs: Date.now() + 60_000,
      },
      NO_QUOTA,
    );
    expect(out).toMatchObject({ kind: 'reserved', claims: [pf] });
    await r.ledger.release('dead-pod');
    await waitFor(() => r.x.mirror.forNode('dgx-2').resizeClaims.get(pf) === 'dead-pod', 'claim mirrored');
    expect((await r.x.reconciler?.run())?.claimsNudged).toBe(0);
    expect((await r.x.reconciler?.run())?.claimsNudged).toBe(1);
    await waitFor(() => r.x.mirror.forNode('dgx-2').resizeClaims.size === 0, 'the agent released the claim');
  });
});
