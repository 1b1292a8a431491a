// Watches and informers through @kubernetes/client-node: events, resuming from a
// resourceVersion, 410 Gone and relist, bookmarks, timeouts, selector transitions.
import { makeInformer, Watch, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiFailure, eventually, pod, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ podTermination: 'manual' });
  await h.core.createNamespace({ body: { metadata: { name: 'w' } } });
});
afterAll(() => h.fake.stop());

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

interface Seen {
  type: string;
  name: string;
  rv: string;
  object: KubernetesObject & Record<string, unknown>;
}

async function watch(path: string, query: Record<string, string | number | boolean>) {
  const seen: Seen[] = [];
  let done: unknown = 'open';
  const controller = await new Watch(h.kc).watch(
    path,
    query,
    (type: string, object: KubernetesObject & Record<string, unknown>) =>
      seen.push({
        type,
        name: object.metadata?.name ?? '',
        rv: object.metadata?.resourceVersion ?? '',
        object,
      }),
    (err: unknown) => {
      done = err;
    },
  );
  stops.push(() => controller.abort());
  return { seen, done: () => done };
}

describe('fake apiserver: watch', () => {
  it('resumes from a resourceVersion with exactly the changes after it, in order', async () => {
    await h.core.createNamespacedPod({ namespace: 'w', body: pod('r-a') });
    await h.core.createNamespacedPod({ namespace: 'w', body: pod('r-b') });
    const from = (await h.core.listNamespacedPod({ namespace: 'w' })).metadata?.resourceVersion ?? '';
    await h.core.createNamespacedPod({ namespace: 'w', body: pod('r-c') });
    await h.core.patchNamespacedPod({
      namespace: 'w',
      name: 'r-a',
      body: [{ op: 'add', path: '/metadata/labels/x', value: '1' }],
    });
    await h.core.deleteNamespacedPod({ namespace: 'w', name: 'r-b' });

    const w = await watch('/api/v1/namespaces/w/pods', { resourceVersion: from, labelSelector: 'app=mpi' });
    await eventually(() => w.seen.length >= 3, 'three events');
    expect(w.seen.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED r-c', 'MODIFIED r-a', 'DELETED r-b']);
    const rvs = w.seen.map((e) => Number(e.rv));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
    expect(rvs[0]).toBeGreaterThan(Number(from));
  });

  it('starts with ADDED for every object when no resourceVersion is given', async () => {
    const w = await watch('/api/v1/namespaces', {});
    await eventually(() => w.seen.some((e) => e.name === 'w'), 'the w namespace');
    expect(w.seen.every((e) => e.type === 'ADDED')).toBe(true);
  });

  it('answers a too-old resourceVersion with an ERROR event carrying 410 Expired, then ends the stream', async () => {
    const old = (await h.core.listNamespacedPod({ namespace: 'w' })).metadata?.resourceVersion ?? '';
    await h.core.createNamespacedPod({ namespace: 'w', body: pod('after-compaction') });
    h.fake.store.compact();
    const w = await watch('/api/v1/namespaces/w/pods', { resourceVersion: old });
    await eventually(() => w.done() !== 'open', 'the stream to end');
    expect(w.seen).toHaveLength(1);
    expect(w.seen[0]?.type).toBe('ERROR');
    expect(w.seen[0]?.object).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      code: 410,
      reason: 'Expired',
    });
    expect(w.done()).toBeNull();
  });

  it('sends bookmarks with the current resourceVersion when asked', async () => {
    const w = await watch('/api/v1/nodes', { allowWatchBookmarks: true, resourceVersion: '0' });
    await h.core.createNode({ body: { metadata: { name: 'bm-node' } } });
    await eventually(() => w.seen.some((e) => e.name === 'bm-node'), 'the node');
    h.fake.sendBookmarks();
    await eventually(() => w.seen.some((e) => e.type === 'BOOKMARK'), 'a bookmark');
    const bookmark = w.seen.find((e) => e.type === 'BOOKMARK');
    expect(bookmark?.object).toMatchObject({ kind: 'Node', apiVersion: 'v1' });
    expect(Number(bookmark?.rv)).toBeGreaterThanOrEqual(Number(w.seen.find((e) => e.name === 'bm-node')?.rv));
  });

  it('ends the stream after timeoutSeconds, without an error', async () => {
    const w = await watch('/api/v1/namespaces', { timeoutSeconds: 1 });
    await eventually(() => w.done() !== 'open', 'the timeout');
    expect(w.done()).toBeNull();
  });

  it('translates selector transitions: a pod bound to the node arrives as ADDED, its deletion as DELETED', async () => {
    const w = await watch('/api/v1/pods', { fieldSelector: 'spec.nodeName=node-9', resourceVersion: '0' });
    await h.core.createNamespacedPod({ namespace: 'w', body: pod('to-node-9') });
    await h.core.createNamespacedPodBinding({
      namespace: 'w',
      name: 'to-node-9',
      body: { metadata: { name: 'to-node-9' }, target: { kind: 'Node', name: 'node-9' } },
    });
    await h.core.deleteNamespacedPod({ namespace: 'w', name: 'to-node-9', gracePeriodSeconds: 0 });
    await eventually(() => w.seen.length >= 2, 'two events');
    expect(w.seen.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED to-node-9', 'DELETED to-node-9']);
  });

  it('rejects an unparsable selector with 400 before streaming', async () => {
    const failure = await apiFailure(h.core.listNamespacedPod({ namespace: 'w', labelSelector: 'a in ()' }));
    expect(failure.code).toBe(400);
  });
});

describe('fake apiserver: informers', () => {
  it('see add, update and delete', async () => {
    const path = '/api/v1/namespaces/w/pods';
    const informer = makeInformer(
      h.kc,
      path,
      () => h.core.listNamespacedPod({ namespace: 'w', labelSelector: 'app=inf' }),
      'app=inf',
    );
    const events: string[] = [];
    informer.on('add', (p: V1Pod) => events.push(`add ${p.metadata?.name ?? ''}`));
    informer.on('update', (p: V1Pod) =>
      events.push(`update ${p.metadata?.name ?? ''} ${p.metadata?.labels?.['step'] ?? ''}`),
    );
    informer.on('delete', (p: V1Pod) => events.push(`delete ${p.metadata?.name ?? ''}`));
    await informer.start();
    stops.push(() => void informer.stop());

    await h.core.createNamespacedPod({
      namespace: 'w',
      body: pod('inf-1', { metadata: { name: 'inf-1', labels: { app: 'inf' } } }),
    });
    await eventually(() => events.includes('add inf-1'), 'add');
    await h.core.patchNamespacedPod({
      namespace: 'w',
      name: 'inf-1',
      body: [{ op: 'add', path: '/metadata/labels/step', value: '2' }],
    });
    await eventually(() => events.includes('update inf-1 2'), 'update');
    await h.core.deleteNamespacedPod({ namespace: 'w', name: 'inf-1' });
    await eventually(() => events.includes('delete inf-1'), 'delete');
    expect(events).toEqual(['add inf-1', 'update inf-1 2', 'delete inf-1']);
    expect(informer.list('w')).toEqual([]);
  });

  it('relists after 410 Gone and catches up on what it missed, deletions included', async () => {
    let lists = 0;
    const informer = makeInformer(
      h.kc,
      '/api/v1/namespaces/w/pods',
      () => {
        lists += 1;
        return h.core.listNamespacedPod({ namespace: 'w', labelSelector: 'app=gone' });
      },
      'app=gone',
    );
    const deleted: string[] = [];
    informer.on('delete', (p: V1Pod) => deleted.push(p.metadata?.name ?? ''));
    await h.core.createNamespacedPod({
      namespace: 'w',
      body: pod('g-1', { metadata: { name: 'g-1', labels: { app: 'gone' } } }),
    });
    await informer.start();
    stops.push(() => void informer.stop());
    await eventually(() => informer.get('g-1', 'w') !== undefined, 'the first list');
    expect(lists).toBe(1);

    // While the informer's watch is down (its reconnect is held): changes it does not see, and
    // the history is compacted, so its resourceVersion is too old when it reconnects.
    let release = () => undefined as void;
    h.fake.injectFault({
      method: 'GET',
      path: '/api/v1/namespaces/w/pods',
      until: new Promise<void>((r) => (release = r)),
    });
    h.fake.closeWatches();
    await h.core.deleteNamespacedPod({ namespace: 'w', name: 'g-1' });
    await h.core.createNamespacedPod({
      namespace: 'w',
      body: pod('g-2', { metadata: { name: 'g-2', labels: { app: 'gone' } } }),
    });
    h.fake.store.compact();
    release();

    await eventually(() => informer.get('g-2', 'w') !== undefined, 'the relist');
    expect(lists).toBeGreaterThanOrEqual(2);
    expect(informer.get('g-1', 'w')).toBeUndefined();
    expect(deleted).toContain('g-1');
  });

  it('see a graceful pod deletion as an update with deletionTimestamp, then a delete when the kubelet is done', async () => {
    const informer = makeInformer(h.kc, '/api/v1/namespaces/w/pods', () =>
      h.core.listNamespacedPod({ namespace: 'w' }),
    );
    const events: string[] = [];
    informer.on('update', (p: V1Pod) => {
      if (p.metadata?.name === 'graceful')
        events.push(p.metadata.deletionTimestamp === undefined ? 'update' : 'terminating');
    });
    informer.on('delete', (p: V1Pod) => {
      if (p.metadata?.name === 'graceful') events.push('delete');
    });
    await informer.start();
    stops.push(() => void informer.stop());
    await h.core.createNamespacedPod({ namespace: 'w', body: pod('graceful') });
    await h.core.createNamespacedPodBinding({
      namespace: 'w',
      name: 'graceful',
      body: { metadata: { name: 'graceful' }, target: { kind: 'Node', name: 'node-1' } },
    });
    h.fake.kubelet.setPodPhase('w', 'graceful', 'Running');
    const deleting = await h.core.deleteNamespacedPod({ namespace: 'w', name: 'graceful' });
    expect(deleting.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect(deleting.metadata?.deletionGracePeriodSeconds).toBe(30);
    await eventually(() => events.includes('terminating'), 'terminating');
    expect((await h.core.readNamespacedPod({ namespace: 'w', name: 'graceful' })).metadata?.name).toBe(
      'graceful',
    );
    h.fake.kubelet.finishTermination('w', 'graceful');
    await eventually(() => events.includes('delete'), 'delete');
    expect(events.slice(-2)).toEqual(['terminating', 'delete']);
  });

  it('keep an object with a finalizer until the finalizer is removed', async () => {
    await h.core.createNamespacedPod({
      namespace: 'w',
      body: pod('fin', { metadata: { name: 'fin', finalizers: ['rdmasched.io/release'] } }),
    });
    const marked = await h.core.deleteNamespacedPod({ namespace: 'w', name: 'fin' });
    expect(marked.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    const still = await h.core.readNamespacedPod({ namespace: 'w', name: 'fin' });
    await h.core.replaceNamespacedPod({
      namespace: 'w',
      name: 'fin',
      body: { ...still, metadata: { ...still.metadata, finalizers: [] } },
    });
    expect((await apiFailure(h.core.readNamespacedPod({ namespace: 'w', name: 'fin' }))).code).toBe(404);
  });
});
