// pods/{name}/binding as kube-scheduler (and the extender's bind verb) uses it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POD_RESOURCE } from '../../src/fake-kube/index.js';
import { apiFailure, pod, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.fake.stop());

const binding = (podName: string, node: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Binding',
  metadata: { name: podName, ...extra },
  target: { apiVersion: 'v1', kind: 'Node', name: node },
});

describe('fake apiserver: binding', () => {
  it('binds a pending pod: sets spec.nodeName, PodScheduled, copies annotations, bumps resourceVersion', async () => {
    const created = await h.core.createNamespacedPod({ namespace: 'default', body: pod('bind-me') });
    await h.core.createNamespacedPodBinding({
      namespace: 'default',
      name: 'bind-me',
      body: binding('bind-me', 'node-1', { annotations: { 'rdmasched.io/reservation': '{"pfs":[]}' } }),
    });
    const bound = await h.core.readNamespacedPod({ namespace: 'default', name: 'bind-me' });
    expect(bound.spec?.nodeName).toBe('node-1');
    expect(bound.metadata?.annotations?.['rdmasched.io/reservation']).toBe('{"pfs":[]}');
    expect(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
    expect(Number(bound.metadata?.resourceVersion)).toBeGreaterThan(
      Number(created.metadata?.resourceVersion),
    );
  });

  it('refuses to bind a pod twice with 409 Conflict naming the node, and keeps the first node', async () => {
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('twice') });
    await h.core.createNamespacedPodBinding({
      namespace: 'default',
      name: 'twice',
      body: binding('twice', 'node-1'),
    });
    const failure = await apiFailure(
      h.core.createNamespacedPodBinding({
        namespace: 'default',
        name: 'twice',
        body: binding('twice', 'node-2'),
      }),
    );
    expect(failure.code).toBe(409);
    expect(failure.status).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on pods/binding "twice": pod twice is already assigned to node "node-1"',
    });
    expect(h.fake.store.get(POD_RESOURCE, 'default', 'twice')['spec']).toMatchObject({ nodeName: 'node-1' });
  });

  it('answers 404 for a pod that does not exist', async () => {
    const failure = await apiFailure(
      h.core.createNamespacedPodBinding({
        namespace: 'default',
        name: 'ghost',
        body: binding('ghost', 'node-1'),
      }),
    );
    expect(failure.status).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'pods "ghost" not found',
    });
  });

  it('refuses a binding whose UID is not the pod UID (the pod was recreated)', async () => {
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('recreated') });
    const failure = await apiFailure(
      h.core.createNamespacedPodBinding({
        namespace: 'default',
        name: 'recreated',
        body: binding('recreated', 'node-1', { uid: 'not-the-uid' }),
      }),
    );
    expect(failure.code).toBe(409);
  });

  it('rejects a binding without a target with 422', async () => {
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('no-target') });
    const failure = await apiFailure(
      h.core.createNamespacedPodBinding({
        namespace: 'default',
        name: 'no-target',
        body: { metadata: { name: 'no-target' }, target: { kind: 'Node' } },
      }),
    );
    expect(failure.code).toBe(422);
  });

  it('also serves the older bindings collection', async () => {
    await h.core.createNamespacedPod({ namespace: 'default', body: pod('old-style') });
    await h.core.createNamespacedBinding({ namespace: 'default', body: binding('old-style', 'node-3') });
    expect((await h.core.readNamespacedPod({ namespace: 'default', name: 'old-style' })).spec?.nodeName).toBe(
      'node-3',
    );
  });
});
