import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeKubeApiServer } from '../fake-kube/index.js';
import { KubeScheduler } from './kube-scheduler.js';

const node = (name: string, cpu: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  status: { allocatable: { cpu, memory: '8Gi', pods: '10' } },
});

const pod = (name: string, cpu: string, schedulerName = 'rdma-scheduler') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    schedulerName,
    containers: [{ name: 'c', image: 'x', resources: { requests: { cpu }, limits: { cpu } } }],
  },
});

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let fake: FakeKubeApiServer | undefined;
let scheduler: KubeScheduler | undefined;
afterEach(async () => {
  await scheduler?.stop();
  await fake?.stop();
  scheduler = undefined;
  fake = undefined;
});

describe('KubeScheduler', () => {
  it("binds its pods through the API, leaves other schedulers' pods, and retries when a node appears", async () => {
    fake = await FakeKubeApiServer.start();
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNode({ body: node('small', '1') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('fits', '1') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('too-big', '4') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('not-mine', '1', 'default-scheduler') });
    const unschedulable: string[] = [];
    scheduler = new KubeScheduler({
      kubeConfig: fake.kubeConfig(),
      schedulerName: 'rdma-scheduler',
      driver: {},
      queue: { initialBackoffMs: 10, maxBackoffMs: 50, unschedulableFlushMs: 60_000 },
      hooks: { onUnschedulable: (p, r) => unschedulable.push(`${p.metadata?.name ?? ''}: ${r.message}`) },
    });
    await scheduler.start();
    const nodeOf = async (name: string) =>
      (await core.readNamespacedPod({ namespace: 'default', name })).spec?.nodeName;
    await eventually(async () => (await nodeOf('fits')) === 'small', 'fits bound');
    await eventually(() => Promise.resolve(unschedulable.length > 0), 'too-big refused');
    expect(unschedulable[0]).toBe('too-big: 0/1 nodes are available: 1 Insufficient cpu.');
    expect(await nodeOf('not-mine')).toBeUndefined();
    // A new node is a cluster event: the unschedulable pod is tried again and lands there.
    await core.createNode({ body: node('big', '8') });
    await eventually(async () => (await nodeOf('too-big')) === 'big', 'too-big bound after the node came');
    expect(await nodeOf('not-mine')).toBeUndefined();
  });

  it("frees a deleted pod's requests, so a waiting pod fits", async () => {
    fake = await FakeKubeApiServer.start();
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNode({ body: node('n', '2') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('first', '2') });
    scheduler = new KubeScheduler({
      kubeConfig: fake.kubeConfig(),
      schedulerName: 'rdma-scheduler',
      driver: {},
      queue: { initialBackoffMs: 10, maxBackoffMs: 50, unschedulableFlushMs: 60_000 },
    });
    await scheduler.start();
    const nodeOf = async (name: string) =>
      (await core.readNamespacedPod({ namespace: 'default', name })).spec?.nodeName;
    await eventually(async () => (await nodeOf('first')) === 'n', 'first bound');
    await core.createNamespacedPod({ namespace: 'default', body: pod('second', '2') });
    await new Promise((r) => setTimeout(r, 100));
    expect(await nodeOf('second')).toBeUndefined();
    await core.deleteNamespacedPod({ namespace: 'default', name: 'first', gracePeriodSeconds: 0 });
    await eventually(async () => (await nodeOf('second')) === 'n', 'second bound once first is gone');
  });
});
