/**
 * RdmaNodePolicy end to end, through @kubernetes/client-node against the testkit's fake
 * kube-apiserver: the agent's informers follow policy add/change/delete and node relabels, its
 * settings follow (which PFs it manages, max VFs, warm pool, MTU), and its entry in each policy's
 * status stays true; two agents racing on one policy's status both keep their entries (409 retry).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys, parseNodeReport, type NodeReport } from '@rdmasched/contracts';
import type { RdmaNodePolicy } from '@rdmasched/crds';
import { FakeKubeApiServer } from '@rdmasched/testkit';
import { KubePolicySource, KubePolicyStatusWriter } from '../../src/adapters/kube/kube-policy.js';
import {
  InMemoryPolicySource,
  InMemoryPolicyStatusWriter,
} from '../../src/adapters/memory/in-memory-policy-source.js';
import { presetSpec } from '../../src/adapters/sim/presets.js';
import { SimulatedHost } from '../../src/adapters/sim/simulated-host.js';
import { parseConfig } from '../../src/config.js';
import { startAgent } from '../../src/main.js';
import {
  agentHarness,
  makeReservation,
  requestJson,
  silentLogger,
  tempHostDir,
  type Harness,
} from '../support/harness.js';
import { eventually } from '../support/eventually.js';

const IB = '0000:1a:00.0';
const ROCE = '0000:9e:00.0';
const POLICIES = { group: 'rdmasched.io', version: 'v1alpha1', plural: 'rdmanodepolicies' };

let fake: FakeKubeApiServer;
let core: CoreV1Api;
let custom: CustomObjectsApi;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  fake = await FakeKubeApiServer.start();
  core = fake.kubeConfig().makeApiClient(CoreV1Api);
  custom = fake.kubeConfig().makeApiClient(CustomObjectsApi);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => fake.stop());

const createNode = (name: string, labels: Record<string, string>) =>
  core.createNode({ body: { metadata: { name, labels } } });
const relabel = async (name: string, labels: Record<string, string>) => {
  const n = await core.readNode({ name });
  await core.replaceNode({ name, body: { ...n, metadata: { ...n.metadata, labels } } });
};
const createPolicy = (name: string, spec: Record<string, unknown>) =>
  custom.createClusterCustomObject({
    ...POLICIES,
    body: { apiVersion: 'rdmasched.io/v1alpha1', kind: 'RdmaNodePolicy', metadata: { name }, spec },
  });
const readPolicy = async (name: string) =>
  (await custom.getClusterCustomObject({ ...POLICIES, name })) as RdmaNodePolicy;
const changePolicy = async (name: string, spec: Record<string, unknown>) => {
  const p = await readPolicy(name);
  await custom.replaceClusterCustomObject({
    ...POLICIES,
    name,
    body: { ...p, spec: { ...p.spec, ...spec } },
  });
};
const entry = async (policy: string, node: string) =>
  (await readPolicy(policy)).status?.nodes?.find((n) => n.nodeName === node);

async function agentOn(node: string): Promise<{ h: Harness; report: () => NodeReport | undefined }> {
  const kc = fake.kubeConfig();
  const source = new KubePolicySource({
    kubeConfig: kc,
    nodeName: node,
    logger: silentLogger,
    restartDelayMs: 50,
  });
  await source.start();
  const h = agentHarness()
    .node(node)
    .preset('reference-host', { numVfs: 0 })
    .policy(source, new KubePolicyStatusWriter({ kubeConfig: kc }))
    .build();
  await h.agent.start();
  cleanups.push(async () => {
    await h.agent.stop();
    await source.stop();
    h.cleanup();
  });
  return { h, report: () => h.reports.latest.get(node)?.report };
}
const maxVfs = (r: NodeReport | undefined, pf: string) =>
  r?.pfs.find((p) => p.pciAddress === pf)?.sriov?.maxVfs;

describe('RdmaNodePolicy through the Kubernetes API', () => {
  it('follows policy add, change and delete, and node relabels; keeps its status entry true', async () => {
    await createNode('kp-1', { rdma: 'yes' });
    const { h, report } = await agentOn('kp-1');
    // No policy yet: the configuration (sriov_totalvfs) applies to both PFs.
    await eventually(() => expect([maxVfs(report(), IB), maxVfs(report(), ROCE)]).toEqual([16, 16]));

    await createPolicy('gpu-ib', {
      nodeSelector: { matchLabels: { rdma: 'yes' } },
      linkType: 'ib',
      maxVfsPerPf: 8,
    });
    await eventually(() => expect([maxVfs(report(), IB), maxVfs(report(), ROCE)]).toEqual([8, 0]));
    await eventually(async () =>
      expect(await entry('gpu-ib', 'kp-1')).toMatchObject({
        pfs: [IB],
        vfsReady: 0,
        lastError: '',
        observedGeneration: 1,
      }),
    );

    // A provisioning request for the PF the policy does not govern is refused, nothing written.
    h.queue.push(
      requestJson({ id: 'r-roce', pfPciAddress: ROCE, minReadyVfs: 1, node: 'kp-1', reason: 'warm-pool' }),
    );
    await eventually(() => expect(h.queue.results.map((r) => r.code)).toEqual(['PF_NOT_MANAGED']));

    await changePolicy('gpu-ib', { maxVfsPerPf: 4 });
    await eventually(() => expect(maxVfs(report(), IB)).toBe(4));
    await eventually(async () => expect((await entry('gpu-ib', 'kp-1'))?.observedGeneration).toBe(2));

    // The node is relabelled out of the policy: configuration again, and its entry is removed.
    await relabel('kp-1', { rdma: 'no' });
    await eventually(() => expect([maxVfs(report(), IB), maxVfs(report(), ROCE)]).toEqual([16, 16]));
    await eventually(async () => expect(await entry('gpu-ib', 'kp-1')).toBeUndefined());

    await relabel('kp-1', { rdma: 'yes' });
    await eventually(() => expect(maxVfs(report(), IB)).toBe(4));
    await custom.deleteClusterCustomObject({ ...POLICIES, name: 'gpu-ib' });
    await eventually(() => expect(maxVfs(report(), ROCE)).toBe(16));
  });

  it('reports a PF of the wrong link type in the status, and the VF MTU the kernel refuses', async () => {
    await createNode('kp-2', { pool: 'mixed' });
    await createPolicy('mixed', {
      nodeSelector: { matchLabels: { pool: 'mixed' } },
      linkType: 'ib',
      nicSelector: { pciAddresses: [IB, ROCE] },
      mtu: 9000, // above what IPoIB takes (4092)
      warmPool: { ib: { minReady: 2 } },
    });
    const { h } = await agentOn('kp-2');
    await eventually(async () => {
      const e = await entry('mixed', 'kp-2');
      expect(e?.lastError).toMatch(/LinkTypeMismatch: PF 0000:9e:00.0 \(enp158s0np0\) is RoCE/);
    });
    // The warm pool grows the IB PF; its VFs are configured, then the MTU is refused.
    await h.agent.warmPoolTick();
    await h.agent.mtuTick();
    await eventually(async () => {
      const e = await entry('mixed', 'kp-2');
      expect(e?.vfsReady).toBe(16);
      expect(e?.lastError).toMatch(/MTU_REFUSED: MTU 9000 on ibp26s0v0 \(0000:1a:00.1\): EINVAL/);
    });
    expect(h.sim.fs.readFileSync(`${h.sim.sysfsRoot}/class/net/ibp26s0v0/mtu`, 'utf8')).toBe('2044\n');

    await changePolicy('mixed', { mtu: 2000 });
    await eventually(async () => {
      await h.agent.mtuTick();
      expect(h.sim.fs.readFileSync(`${h.sim.sysfsRoot}/class/net/ibp26s0v3/mtu`, 'utf8')).toBe('2000\n');
    });
    await custom.deleteClusterCustomObject({ ...POLICIES, name: 'mixed' });
  });

  it('two agents writing one policy status at once both keep their entries (409 Conflict retried)', async () => {
    await createNode('kp-3', { rack: 'r1' });
    await createNode('kp-4', { rack: 'r1' });
    await createPolicy('rack', { nodeSelector: { matchLabels: { rack: 'r1' } } });
    const kc = fake.kubeConfig();
    const writers = [
      new KubePolicyStatusWriter({ kubeConfig: kc }),
      new KubePolicyStatusWriter({ kubeConfig: kc }),
    ];
    const entryFor = (node: string, vfsReady: number) => ({
      nodeName: node,
      pfs: [IB],
      vfsReady,
      lastError: '',
      observedGeneration: 1,
    });
    // Many rounds of simultaneous read-modify-writes from two agents: every one must land.
    for (let round = 1; round <= 8; round++) {
      const outcomes = await Promise.all([
        writers[0]!.write('rack', 'kp-3', entryFor('kp-3', round)),
        writers[1]!.write('rack', 'kp-4', entryFor('kp-4', round)),
      ]);
      expect(outcomes).toEqual(['written', 'written']);
    }
    const nodes = (await readPolicy('rack')).status?.nodes ?? [];
    expect(nodes.map((n) => [n.nodeName, n.vfsReady])).toEqual([
      ['kp-3', 8],
      ['kp-4', 8],
    ]);
    expect(fake.requests.some((r) => r.method === 'PUT' && r.status === 409)).toBe(true);
    expect(await writers[0]!.write('rack', 'kp-3', entryFor('kp-3', 8))).toBe('unchanged');
    expect(await writers[0]!.write('rack', 'kp-3', null)).toBe('written');
    expect(await writers[0]!.write('gone-policy', 'kp-3', null)).toBe('gone');
    await custom.deleteClusterCustomObject({ ...POLICIES, name: 'rack' });
  });
});

describe('the daemon with a kubeconfig', () => {
  it('takes its settings from the policy that selects its node and writes its status entry', async () => {
    await createNode('kp-daemon', { role: 'gpu' });
    await createPolicy('daemon', {
      nodeSelector: { matchLabels: { role: 'gpu' } },
      linkType: 'roce',
      maxVfsPerPf: 3,
    });
    const dir = mkdtempSync(join(tmpdir(), 'rdmasched-kubeconfig-'));
    const host = tempHostDir();
    const keys = new RedisKeys({ prefix: `kp-${randomUUID().slice(0, 8)}` });
    const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
    const r = new Redis(url);
    writeFileSync(join(dir, 'kubeconfig'), fake.kubeConfig().exportConfig());
    SimulatedHost.create(host.dir, presetSpec('reference-host', { numVfs: 0 }));
    const running = await startAgent(
      parseConfig({
        RDMASCHED_NODE_NAME: 'kp-daemon',
        RDMASCHED_HOST_MODE: 'simulated',
        RDMASCHED_SIM_DIR: host.dir,
        RDMASCHED_REDIS_URL: url,
        RDMASCHED_REDIS_KEY_PREFIX: keys.prefix,
        RDMASCHED_HTTP_HOST: '127.0.0.1',
        RDMASCHED_HTTP_PORT: '0',
        RDMASCHED_KUBE_API: 'kubeconfig',
        RDMASCHED_KUBECONFIG: join(dir, 'kubeconfig'),
        RDMASCHED_POLICY_STATUS_INTERVAL_MS: '100',
        RDMASCHED_LOG_LEVEL: 'silent',
      }),
    );
    cleanups.push(async () => {
      await running.stop();
      await r.quit();
      host.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });
    await eventually(async () => {
      const json = await r.get(keys.report('kp-daemon'));
      const rep = json === null ? undefined : parseNodeReport(json);
      const report = rep?.ok === true ? rep.value : undefined;
      expect([maxVfs(report, IB), maxVfs(report, ROCE)]).toEqual([0, 3]);
    });
    await eventually(async () => expect((await entry('daemon', 'kp-daemon'))?.pfs).toEqual([ROCE]));
    await custom.deleteClusterCustomObject({ ...POLICIES, name: 'daemon' });
  });
});

describe('RdmaNodePolicy in memory (the simulation)', () => {
  it('applies the policy that selects the node and writes its status, rate-limited', async () => {
    const source = new InMemoryPolicySource([], { rdma: 'yes' });
    const status = new InMemoryPolicyStatusWriter();
    const h = agentHarness().preset('reference-host', { numVfs: 0 }).policy(source, status).build();
    cleanups.push(async () => {
      await h.agent.stop();
      h.cleanup();
    });
    await h.agent.start();
    source.set({
      policies: [
        {
          apiVersion: 'rdmasched.io/v1alpha1',
          kind: 'RdmaNodePolicy',
          metadata: { name: 'roce', generation: 3 },
          spec: { nodeSelector: {}, linkType: 'roce', maxVfsPerPf: 2 },
        },
      ],
    });
    await eventually(() => expect(status.entries.get('roce')?.get('node-a')?.observedGeneration).toBe(3));
    expect(status.entries.get('roce')?.get('node-a')?.pfs).toEqual([ROCE]);
    h.ledger.reserve(makeReservation('uid-1', IB, 1));
    h.queue.push(requestJson({ id: 'r-ib', pfPciAddress: IB, minReadyVfs: 1, podUid: 'uid-1' }));
    await eventually(() => expect(h.queue.results.map((r) => r.code)).toEqual(['PF_NOT_MANAGED']));
  });
});
