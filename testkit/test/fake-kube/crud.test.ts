// Create/read/update/patch/delete through @kubernetes/client-node against the fake apiserver.
import { PatchStrategy, setHeaderOptions, VersionApi, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFailure, pod, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.core.createNamespace({ body: { metadata: { name: 'team-a', labels: { tenant: 'a' } } } });
});
afterAll(() => h.fake.stop());

describe('fake apiserver: CRUD through client-node', () => {
  it('serves discovery and version', async () => {
    const version = await h.kc.makeApiClient(VersionApi).getCode();
    expect(version.major).toBe('1');
    const namespaces = await h.core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(
      expect.arrayContaining(['default', 'kube-system', 'team-a']),
    );
  });

  it('labels namespaces with their name, as the apiserver does', async () => {
    const ns = await h.core.readNamespace({ name: 'team-a' });
    expect(ns.metadata?.labels).toEqual({ tenant: 'a', 'kubernetes.io/metadata.name': 'team-a' });
    expect(ns.status?.phase).toBe('Active');
  });

  it('creates with uid, creationTimestamp, resourceVersion, server defaults and generateName', async () => {
    const created = await h.core.createNamespacedPod({
      namespace: 'team-a',
      body: pod('', { metadata: { generateName: 'worker-' } }),
    });
    expect(created.metadata?.name).toMatch(/^worker-[a-z0-9]{5}$/);
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(created.metadata?.namespace).toBe('team-a');
    expect(created.status?.phase).toBe('Pending');
    const read = await h.core.readNamespacedPod({ namespace: 'team-a', name: created.metadata?.name ?? '' });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
  });

  it('rejects a duplicate name with 409 AlreadyExists and a missing object with 404', async () => {
    await h.core.createNamespacedPod({ namespace: 'team-a', body: pod('dup') });
    const dup = await apiFailure(h.core.createNamespacedPod({ namespace: 'team-a', body: pod('dup') }));
    expect(dup.code).toBe(409);
    expect(dup.status).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'AlreadyExists',
      code: 409,
    });
    const missing = await apiFailure(h.core.readNamespacedPod({ namespace: 'team-a', name: 'nope' }));
    expect(missing.code).toBe(404);
    expect(missing.status).toMatchObject({
      reason: 'NotFound',
      message: 'pods "nope" not found',
      details: { name: 'nope', kind: 'pods' },
    });
  });

  it('rejects bad create bodies: no name, a bad name, an unknown namespace, a wrong kind', async () => {
    const noName = await apiFailure(h.core.createNamespacedPod({ namespace: 'team-a', body: pod('') }));
    expect(noName).toMatchObject({ code: 422, status: { reason: 'Invalid' } });
    expect(String(noName.status['message'])).toContain('name or generateName is required');
    const badName = await apiFailure(
      h.core.createNamespacedPod({ namespace: 'team-a', body: pod('Bad_Name') }),
    );
    expect(badName.code).toBe(422);
    const noNs = await apiFailure(h.core.createNamespacedPod({ namespace: 'ghost', body: pod('p') }));
    expect(noNs.status).toMatchObject({ code: 404, message: 'namespaces "ghost" not found' });
    const wrongKind = await apiFailure(
      h.core.createNamespacedPod({ namespace: 'team-a', body: { ...pod('p'), kind: 'Node' } }),
    );
    expect(wrongKind.code).toBe(400);
  });

  it('updates with the current resourceVersion and refuses a stale one with 409 Conflict', async () => {
    const created = await h.core.createNamespacedPod({ namespace: 'team-a', body: pod('upd') });
    const fresh: V1Pod = { ...created, metadata: { ...created.metadata, labels: { app: 'mpi', step: '1' } } };
    const updated = await h.core.replaceNamespacedPod({ namespace: 'team-a', name: 'upd', body: fresh });
    expect(updated.metadata?.labels).toEqual({ app: 'mpi', step: '1' });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(
      Number(created.metadata?.resourceVersion),
    );

    const stale: V1Pod = {
      ...created,
      metadata: { ...created.metadata, labels: { app: 'mpi', step: 'stale' } },
    };
    const failure = await apiFailure(
      h.core.replaceNamespacedPod({ namespace: 'team-a', name: 'upd', body: stale }),
    );
    expect(failure.code).toBe(409);
    expect(failure.status).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on pods "upd": the object has been modified; please apply your changes to the latest version and try again',
    });
    const after = await h.core.readNamespacedPod({ namespace: 'team-a', name: 'upd' });
    expect(after.metadata?.labels?.['step']).toBe('1');
  });

  it('forbids changing a pod spec field other than the mutable ones (nodeName goes through Binding)', async () => {
    const created = await h.core.createNamespacedPod({ namespace: 'team-a', body: pod('immutable') });
    const failure = await apiFailure(
      h.core.replaceNamespacedPod({
        namespace: 'team-a',
        name: 'immutable',
        body: {
          ...created,
          spec: { ...created.spec, containers: created.spec?.containers ?? [], nodeName: 'node-1' },
        },
      }),
    );
    expect(failure.code).toBe(422);
    expect(String(failure.status['message'])).toContain('pod updates may not change fields');
  });

  it('patches with the json-patch default, merge patch and strategic merge patch', async () => {
    await h.core.createNamespacedPod({ namespace: 'team-a', body: pod('patched') });
    const jsonPatched = await h.core.patchNamespacedPod({
      namespace: 'team-a',
      name: 'patched',
      body: [{ op: 'add', path: '/metadata/annotations', value: { a: '1' } }],
    });
    expect(jsonPatched.metadata?.annotations).toEqual({ a: '1' });
    const merged = await h.core.patchNamespacedPod(
      { namespace: 'team-a', name: 'patched', body: { metadata: { annotations: { a: null, b: '2' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.annotations).toEqual({ b: '2' });
    const strategic = await h.core.patchNamespacedPod(
      { namespace: 'team-a', name: 'patched', body: { metadata: { finalizers: ['x.io/keep'] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.metadata?.finalizers).toEqual(['x.io/keep']);
    const failed = await apiFailure(
      h.core.patchNamespacedPod({
        namespace: 'team-a',
        name: 'patched',
        body: [{ op: 'test', path: '/metadata/name', value: 'other' }],
      }),
    );
    expect(failed.code).toBe(422);
    const stale = await apiFailure(
      h.core.patchNamespacedPod(
        {
          namespace: 'team-a',
          name: 'patched',
          body: { metadata: { resourceVersion: '1', labels: { x: 'y' } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(stale.code).toBe(409);
  });

  it('lists with label and field selectors, and rejects unsupported fields', async () => {
    await h.core.createNode({ body: { metadata: { name: 'node-a', labels: { rack: 'r1' } } } });
    await h.core.createNode({ body: { metadata: { name: 'node-b', labels: { rack: 'r2' } } } });
    const r1 = await h.core.listNode({ labelSelector: 'rack in (r1,r3)' });
    expect(r1.items.map((n) => n.metadata?.name)).toEqual(['node-a']);
    expect(r1.kind).toBe('NodeList');
    expect(Number(r1.metadata?.resourceVersion)).toBeGreaterThan(0);
    const notR1 = await h.core.listNode({ labelSelector: 'rack!=r1' });
    expect(notR1.items.map((n) => n.metadata?.name)).toEqual(['node-b']);
    const byName = await h.core.listNode({ fieldSelector: 'metadata.name=node-b' });
    expect(byName.items.map((n) => n.metadata?.name)).toEqual(['node-b']);

    await h.core.createNamespacedPod({
      namespace: 'team-a',
      body: pod('other-sched', { spec: { schedulerName: 'default-scheduler', containers: [{ name: 'c' }] } }),
    });
    const mine = await h.core.listPodForAllNamespaces({
      fieldSelector: 'spec.schedulerName=rdma-scheduler,spec.nodeName=',
    });
    expect(mine.items.length).toBeGreaterThan(0);
    expect(mine.items.every((p) => p.spec?.schedulerName === 'rdma-scheduler')).toBe(true);
    const bad = await apiFailure(
      h.core.listNamespacedPod({ namespace: 'team-a', fieldSelector: 'spec.priority=1' }),
    );
    expect(bad.status).toMatchObject({ code: 400, message: 'field label not supported: spec.priority' });
  });

  it('deletes, returning the object, and records events', async () => {
    await h.core.createNamespacedPod({ namespace: 'team-a', body: pod('gone') });
    const deleted = await h.core.deleteNamespacedPod({ namespace: 'team-a', name: 'gone' });
    expect(deleted.metadata?.name).toBe('gone');
    expect((await apiFailure(h.core.readNamespacedPod({ namespace: 'team-a', name: 'gone' }))).code).toBe(
      404,
    );

    const event = await h.core.createNamespacedEvent({
      namespace: 'team-a',
      body: {
        metadata: { generateName: 'gone.' },
        involvedObject: { kind: 'Pod', name: 'gone', namespace: 'team-a' },
        reason: 'FailedScheduling',
        message: 'no node has 2 free IB VFs',
        type: 'Warning',
      },
    });
    expect(event.metadata?.name).toMatch(/^gone\./);
    const events = await h.core.listNamespacedEvent({
      namespace: 'team-a',
      fieldSelector: 'involvedObject.name=gone,reason=FailedScheduling',
    });
    expect(events.items.map((e) => e.message)).toEqual(['no node has 2 free IB VFs']);
  });

  it('checks DeleteOptions preconditions', async () => {
    const created = await h.core.createNamespacedPod({ namespace: 'team-a', body: pod('precond') });
    const failure = await apiFailure(
      h.core.deleteNamespacedPod({
        namespace: 'team-a',
        name: 'precond',
        body: { preconditions: { uid: 'someone-else' } },
      }),
    );
    expect(failure.code).toBe(409);
    await h.core.deleteNamespacedPod({
      namespace: 'team-a',
      name: 'precond',
      body: { preconditions: { uid: created.metadata?.uid ?? '' } },
    });
    expect((await apiFailure(h.core.readNamespacedPod({ namespace: 'team-a', name: 'precond' }))).code).toBe(
      404,
    );
  });

  it('deleting a namespace deletes what is in it', async () => {
    await h.core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await h.core.createNamespacedPod({ namespace: 'doomed', body: pod('p') });
    await h.core.deleteNamespace({ name: 'doomed' });
    expect((await h.core.listNamespacedPod({ namespace: 'doomed' })).items).toEqual([]);
  });
});
